// Types for index.mjs (the development mail catcher), for the TypeScript tests that import it.

export interface CaughtMessage {
  id: number;
  at: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
}

export interface MailCatcher {
  /** Where the backend sends mail (`SMTP_URL`). */
  smtpUrl: string;
  /** The development page listing caught mail; `messages.json?to=` answers JSON. */
  webUrl: string;
  messages(): CaughtMessage[];
  close(): Promise<void>;
}

export function startMailCatcher(options?: { smtpPort?: number; webPort?: number }): Promise<MailCatcher>;
