/** Outgoing mail over SMTP (docs/mail.md). */
export { Mailer } from './mailer.js';
export { messages } from './messages.js';
