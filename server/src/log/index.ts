import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/**
 * Paths that may carry secrets anywhere in a log object: they are replaced before the line is
 * written. Headers are logged already summarised by the request logger, but a stray object
 * (an error's cause, a request) must not leak either.
 */
const REDACT = [
  'authorization',
  'cookie',
  'password',
  'token',
  'secret',
  'code',
  'credential',
  'apiKey',
  'refreshToken',
  'accessToken',
  'idToken',
  'clientSecret',
  'bootstrapPassword',
  'masterKey',
  'state',
  'nonce',
  'codeVerifier',
].flatMap((key) => [key, `*.${key}`]);

const HEADER_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'req.headers.dpop',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gatehouse' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT, ...HEADER_REDACT], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * Neutralises a value that came from a request before it goes into a log line or a header
 * (docs/security-tests.md N6, N14): control characters (CR, LF, ANSI escapes) are escaped, length is capped.
 */
export function safeLogValue(value: unknown, max = 200): string {
  const text = typeof value === 'string' ? value : String(value);
  const cleaned = text.replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}
