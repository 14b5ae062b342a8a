// Assertions shared by the HTTP security suites (docs/security-tests.md, general rule): a refusal is a
// 4xx problem-details body with a stable code and the request id, nothing internal leaks,
// the process keeps serving, and no log line carries a secret or a raw control character.

import { once } from 'node:events';
import { connect } from 'node:net';
import { ERROR_CODES, type ErrorCode } from '@gatehouse/shared';
import type { Response } from 'supertest';
import { expect } from 'vitest';
import { createHttpServer } from '../src/http/index.js';
import { createTestApp, type TestApp } from './harness.js';
import { ALICE, signIn } from './sign-in.js';
import { rememberSecret } from './suite-audit.js';

/** Words that only appear when a stack trace, a driver or a parser leaks into a response. */
const INTERNALS =
  /\bat [\w.<>]+ \(|node_modules|\.[jt]s:\d+|Mongo|E11000|ferret|postgres|ioredis|ZodError|TypeError|SyntaxError|RangeError|Unexpected token|"stack"\s*:/i;

/** Problem details (RFC 9457) with the stable code, its safe title and the request id. */
export function expectProblem(response: Response, status: number, code: ErrorCode): void {
  expect(response.status, response.text).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, code, title: ERROR_CODES[code].message });
  expect(response.body.requestId).toBeTruthy();
  expect(response.body.requestId).toBe(response.headers['x-request-id']);
  for (const key of Object.keys(response.body)) expect(['type', 'title', 'status', 'code', 'requestId', 'errors']).toContain(key);
  expectNoInternals(response);
}

/** An HTML error page (routes a browser opens): the status and the code's plain-words message. */
export function expectErrorPage(response: Response, status: number, code: ErrorCode): void {
  expect(response.status, response.text).toBe(status);
  expect(response.headers['content-type']).toMatch(/^text\/html/);
  expect(response.text).toContain(ERROR_CODES[code].message);
  expectNoInternals(response);
}

export function expectNoInternals(response: Response): void {
  expect(response.status).toBeLessThan(500);
  expect(response.text).not.toMatch(INTERNALS);
}

/** The process stays up: a normal request right after still works. */
export async function expectStillServing(t: TestApp): Promise<void> {
  const page = await t.http.get('/sign-in');
  expect(page.status).toBe(200);
  expect(page.text).toContain('Continue with Development IdP');
}

/**
 * Every log line is exactly one JSON object, and neither the line nor any string inside it
 * carries a control character (CR, LF, ESC, C1 controls such as the 8-bit CSI or NEL, U+2028/9),
 * so nothing from a request can forge a line or recolour a terminal (docs/security-tests.md N6, N14).
 */
export function expectCleanLogLines(lines: readonly string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    const body = line.endsWith('\n') ? line.slice(0, -1) : line;
    expect(body, 'raw control character in a log line').not.toMatch(/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/);
    const parsed: unknown = JSON.parse(body);
    expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), body).toBe(true);
    for (const value of strings(parsed)) {
      expect(value, `control character in a logged value: ${JSON.stringify(value)}`).not.toMatch(
        /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/,
      );
    }
  }
}

/** Every string inside a value (a parsed log line, a raw database document). */
export function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (value && typeof value === 'object') for (const inner of Object.values(value)) yield* strings(inner);
}

/**
 * Collects the apps a suite built and the secrets it saw (session cookies, CSRF tokens, the
 * bootstrap password, the master key), so the suite's last test can scan every log line.
 */
export class SecretWatch {
  private readonly apps: TestApp[] = [];
  private readonly secrets = new Map<string, string>();

  track(t: TestApp): TestApp {
    this.apps.push(t);
    this.add('master key', t.config.masterKey.toString('base64url'));
    this.add('master key (hex)', t.config.masterKey.toString('hex'));
    this.add('master key (base64)', t.config.masterKey.toString('base64'));
    if (t.config.FIRST_RUN_PASSWORD) this.add('FIRST_RUN_PASSWORD', t.config.FIRST_RUN_PASSWORD);
    return t;
  }

  /** A secret, as a raw value or a `name=value` cookie pair (the value part is what counts). */
  add(what: string, value: string): void {
    const secret = value.includes('=') && !value.endsWith('=') ? value.slice(value.indexOf('=') + 1) : value;
    if (secret.length >= 8) this.secrets.set(secret, what);
    rememberSecret(what, secret);
  }

  get lines(): string[] {
    return this.apps.flatMap((t) => t.logLines);
  }

  expectNoSecretInLogs(): void {
    expect(this.secrets.size).toBeGreaterThan(0);
    const all = this.lines.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const [secret, what] of this.secrets) expect(all.includes(secret), `${what} found in the logs`).toBe(false);
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.apps.map((t) => t.close()));
  }
}

/**
 * A fresh app with Alice signed in and her CSRF token, both registered with the watch so the
 * file's final leak scan looks for them.
 */
export async function signedInApp(watch: SecretWatch): Promise<{ t: TestApp; alice: string; csrf: string }> {
  const t = watch.track(await createTestApp());
  const alice = (await signIn(t, ALICE)).sessionCookie;
  const csrf = await csrfTokenOf(t, alice);
  watch.add('session cookie', alice);
  watch.add('csrf token', csrf);
  return { t, alice, csrf };
}

/** `csrf` value of the sign-out form on the account page of a signed-in session. */
export async function csrfTokenOf(t: TestApp, sessionCookie: string): Promise<string> {
  const page = await t.http.get('/account').set('Cookie', sessionCookie);
  expect(page.status).toBe(200);
  const token = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (!token) throw new Error('no csrf token on the account page');
  return token;
}

/** Whether a session cookie still authenticates (the account page opens instead of redirecting). */
export async function sessionAlive(t: TestApp, sessionCookie: string): Promise<boolean> {
  const page = await t.http.get('/account').set('Cookie', sessionCookie);
  return page.status === 200;
}

/** The session record behind a session cookie (`sid` read from the cookie's JWT, unverified). */
export async function sessionRecordOf(t: TestApp, sessionCookie: string) {
  const token = sessionCookie.slice(sessionCookie.indexOf('=') + 1);
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sid?: string };
  const record = await collection(t, 'sessions').findOne({ _id: claims.sid ?? '' });
  if (!record) throw new Error('no session record for this cookie');
  return record as unknown as {
    _id: string;
    userId: string;
    device: string;
    ip: string | null;
    ipIndex: string | null;
    revokedAt: Date | null;
    revokeReason: string | null;
  };
}

/** A raw collection whose documents have string ids, for reading and planting records by hand. */
export function collection(t: TestApp, name: string) {
  return t.db.collection<{ _id: string; [field: string]: unknown }>(name);
}

/** Sends bytes on a raw socket to the production server (createHttpServer); returns the status line. */
export async function rawSocketRequest(t: TestApp, bytes: Buffer): Promise<string> {
  const server = createHttpServer(t.callback);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.write(bytes);
    await once(socket, 'close');
    return answer.split('\r\n')[0] ?? '';
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/** `POST /oauth/introspect` (RFC 7662) as the resource server `auth` = [id, secret]. */
export function introspectRequest(t: TestApp, token: string, auth: [string, string]) {
  return t.http
    .post('/oauth/introspect')
    .auth(...auth)
    .type('form')
    .send({ token });
}
