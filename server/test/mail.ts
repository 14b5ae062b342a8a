import { inject } from 'vitest';

export interface CaughtMail {
  to: string[];
  subject: string;
  text: string;
}

/** `SMTP_URL` of the suite's mail catcher (scripts/mail-catcher), for createTestApp's env. */
export function catcherSmtpUrl(): string {
  return inject('stack').smtpUrl;
}

/** Mail the catcher holds for `to`, oldest first. */
export async function mailTo(to: string): Promise<CaughtMail[]> {
  const response = await fetch(new URL(`messages.json?to=${encodeURIComponent(to)}`, inject('stack').mailUrl));
  if (!response.ok) throw new Error(`mail catcher answered ${response.status}`);
  return (await response.json()) as CaughtMail[];
}

/** Waits for the `count`-th mail to `to` (SMTP delivery is done when send() returns, but be lenient). */
export async function waitForMail(to: string, count = 1, timeoutMs = 5000): Promise<CaughtMail> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const mail = await mailTo(to);
    if (mail.length >= count) return mail[count - 1] as CaughtMail;
    if (Date.now() > until) throw new Error(`no mail #${count} to ${to} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The first link in a mail's text that goes to `path` on any origin, with its fragment. */
export function linkIn(mail: CaughtMail, path: string): URL {
  const found = mail.text
    .match(/https?:\/\/\S+/g)
    ?.map((candidate) => new URL(candidate))
    .find((url) => url.pathname === path);
  if (!found) throw new Error(`no ${path} link in the mail "${mail.subject}"`);
  return found;
}
