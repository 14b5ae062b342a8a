import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';

/** One plain-text message; links in it are secrets, so its body never reaches a log. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Sends the mail Gatehouse needs (invitations, password reset and email confirmation links,
 * docs/mail.md). `send` answers whether the SMTP server took the message; it never throws, so
 * a caller keeps what it stored and shows the link to the admin instead ("not sent, copy the
 * link") when mail is down or not configured.
 */
export class Mailer {
  private readonly transport: Transporter | null;
  private readonly from: string;

  constructor(
    config: Pick<Config, 'SMTP_URL' | 'MAIL_FROM' | 'publicUrl'>,
    private readonly log: Logger,
  ) {
    this.from = config.MAIL_FROM ?? `Gatehouse <no-reply@${config.publicUrl.hostname}>`;
    this.transport = config.SMTP_URL ? nodemailer.createTransport(transportOptions(config.SMTP_URL)) : null;
  }

  /** Whether mail can go out at all (SMTP_URL set). */
  get configured(): boolean {
    return this.transport !== null;
  }

  async send(mail: Mail): Promise<boolean> {
    if (!this.transport) return false;
    try {
      await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text });
      return true;
    } catch (error) {
      // The reason only: never the message (its link is a secret), and not the SMTP server's
      // text either, which may quote the recipient.
      const { code, responseCode, command } = error as { code?: string; responseCode?: number; command?: string };
      this.log.warn({ smtp: { code, responseCode, command } }, 'mail not sent');
      return false;
    }
  }

  close(): void {
    this.transport?.close();
  }
}

/**
 * nodemailer options from SMTP_URL. Plain `smtp://` to anything but this machine must upgrade
 * with STARTTLS (a server that does not offer it gets no mail); timeouts keep an unreachable
 * server from holding a request for minutes.
 */
function transportOptions(smtpUrl: string) {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTLS: !secure && !loopback,
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 10_000,
  };
}
