// The development mail catcher: a real SMTP server (the `smtp-server` package) that keeps every
// message in memory, and a development-only web page listing them so that a person can click
// the links Gatehouse mails (docs/mail.md). `npm start` and the test suites start it through
// scripts/stack; it is never part of a production deployment.
import { createServer } from 'node:http';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const MAX_MESSAGES = 500;
const MAX_MESSAGE_BYTES = 1024 * 1024;

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const linkify = (text) => escapeHtml(text).replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`);

/**
 * Starts the catcher on 127.0.0.1.
 * @param {{ smtpPort?: number, webPort?: number }} [options] 0 or absent: a free port
 */
export async function startMailCatcher({ smtpPort = 0, webPort = 0 } = {}) {
  /** @type {{ id: number, at: string, from: string, to: string[], subject: string, text: string }[]} */
  const messages = [];
  let nextId = 1;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    size: MAX_MESSAGE_BYTES,
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push({
            id: nextId++,
            at: new Date().toISOString(),
            from: mail.from?.text ?? session.envelope.mailFrom?.address ?? '',
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            subject: mail.subject ?? '',
            text: mail.text ?? '',
          });
          if (messages.length > MAX_MESSAGES) messages.shift();
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(smtpPort, '127.0.0.1', resolve);
  });
  smtp.on('error', () => {}); // a client that hangs up mid-message must not stop the catcher

  const web = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://catcher');
    if (req.method === 'DELETE' && url.pathname === '/messages') {
      messages.length = 0;
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (url.pathname === '/messages.json') {
      const to = url.searchParams.get('to');
      const list = to ? messages.filter((m) => m.to.some((a) => a.toLowerCase() === to.toLowerCase())) : messages;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(list));
      return;
    }
    if (url.pathname !== '/') {
      res.writeHead(404).end();
      return;
    }
    const items = [...messages]
      .reverse()
      .map(
        (m) =>
          `<article><h2>${escapeHtml(m.subject)}</h2><p class="meta">To ${escapeHtml(m.to.join(', '))} · from ${escapeHtml(
            m.from,
          )} · ${escapeHtml(m.at)}</p><pre>${linkify(m.text)}</pre></article>`,
      )
      .join('');
    res
      .writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      })
      .end(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
          `<title>Caught mail (development)</title><style>body{font:16px system-ui;margin:1rem auto;max-width:48rem;padding:0 1rem}` +
          `pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f4f5;padding:.75rem;border-radius:6px}.meta{color:#555}</style>` +
          `</head><body><h1>Caught mail</h1><p>Development only: every message Gatehouse sent through this machine's catcher, newest first. Reload to see new ones.</p>${
            items || '<p>No mail yet.</p>'
          }</body></html>`,
      );
  });
  await new Promise((resolve, reject) => {
    web.once('error', reject);
    web.listen(webPort, '127.0.0.1', resolve);
  });

  const smtpAddress = smtp.server.address();
  const webAddress = web.address();
  return {
    smtpUrl: `smtp://127.0.0.1:${smtpAddress.port}`,
    webUrl: `http://127.0.0.1:${webAddress.port}/`,
    messages: () => [...messages],
    close: async () => {
      await new Promise((resolve) => smtp.close(resolve));
      await new Promise((resolve) => web.close(resolve));
    },
  };
}
