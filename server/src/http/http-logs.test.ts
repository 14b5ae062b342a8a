import type { IncomingMessage } from 'node:http';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/harness.js';
import {
  expectCleanLogLines,
  expectProblem,
  expectStillServing,
  rawSocketRequest,
  SecretWatch,
  sessionRecordOf,
  strings,
} from '../../test/http-checks.js';
import { ALICE, authorizeAtIdp, cookieFrom, startLogin } from '../../test/sign-in.js';
import { sha256 } from '../crypto/index.js';

const watch = new SecretWatch();
afterAll(() => watch.closeAll());

const CONTROL = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/;

/** No header was split: every value is free of CR/LF and no injected header appeared. */
function expectNoHeaderSplit(response: Response) {
  // superagent keeps Node's IncomingMessage on `res`: its rawHeaders are the lines as received.
  const raw = (response as unknown as { res: IncomingMessage }).res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    expect(raw[i + 1], `header ${raw[i]}`).not.toMatch(/[\r\n]/);
    expect(raw[i]?.toLowerCase()).not.toMatch(/evil/);
  }
  const cookies = [response.headers['set-cookie'] ?? []].flat();
  for (const cookie of cookies) expect(cookie).toMatch(/^__Host-gatehouse(-login)?=/);
  expect(raw.filter((_, i) => i % 2 === 0 && raw[i]?.toLowerCase() === 'location').length).toBeLessThanOrEqual(1);
}

/** A whole sign-in as ALICE whose callback request carries the given headers. */
async function signInWith(t: TestApp, options: { returnTo?: string; headers?: Record<string, string> }) {
  const started = await startLogin(t, options.returnTo === undefined ? {} : { returnTo: options.returnTo });
  const back = await authorizeAtIdp(started, ALICE);
  const request = t.http.get(back.pathname + back.search).set('Cookie', started.loginCookie);
  for (const [name, value] of Object.entries(options.headers ?? {})) request.set(name, value);
  const response = await request;
  expect(response.status, response.text).toBe(302);
  const sessionCookie = cookieFrom(response.headers['set-cookie'], '__Host-gatehouse');
  if (!sessionCookie) throw new Error('no session cookie');
  watch.add('session cookie', sessionCookie);
  return { response, session: await sessionRecordOf(t, sessionCookie) };
}

const CRLF_RETURN_TO: [string, string][] = [
  ['CRLF + Set-Cookie', '/%0d%0aSet-Cookie:%20evil=1'],
  ['LF + Location', '/%0aLocation:%20https://evil.example'],
  ['CR alone', '/account%0dX-Evil:%201'],
  ['double-encoded CRLF', '/%250d%250aSet-Cookie:%20evil=1'],
  ['NUL', '/account%00evil'],
  ['ESC sequence', '/%1b[31mred'],
  ['NEL (C1 newline)', '/%c2%85Set-Cookie:%20evil=1'],
  ['U+2028 line separator', '/%e2%80%a8Set-Cookie:%20evil=1'],
];

describe('N6 CRLF in values that reach headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = watch.track(await createTestApp({ TRUST_PROXY_HOPS: '1' }));
  });

  it.each(CRLF_RETURN_TO)('N6 login return_to with %s: one clean redirect to the IdP, no injected header', async (_, value) => {
    // The value is sent as the raw query so its own percent-encoding is what the server decodes.
    const response = await t.http.get(`/auth/dev/login?return_to=${value}`);
    expect(response.status).toBe(302);
    expect(new URL(response.headers.location ?? '').origin).toBe(new URL(t.config.providers[0]?.issuer ?? '').origin);
    expectNoHeaderSplit(response);
    const state = new URL(response.headers.location ?? '').searchParams.get('state') ?? '';
    const saved = JSON.parse((await t.redis.get(`oidc:state:${sha256(state)}`)) ?? '{}');
    // Whatever survives as the return path is a plain same-origin path without control characters.
    expect(saved.returnTo === null || (saved.returnTo.startsWith('/') && !CONTROL.test(saved.returnTo))).toBe(true);
  });

  it.each(CRLF_RETURN_TO)('N6 a whole sign-in with return_to %s ends in one clean Location on this origin', async (_, value) => {
    const { response } = await signInWith(t, { returnTo: decodeURIComponent(value) });
    expectNoHeaderSplit(response);
    const location = response.headers.location ?? '';
    expect(location).toMatch(/^\/[^/\\]/);
    expect(location).not.toMatch(/[^\x21-\x7E]/);
    expect(new URL(location, t.config.publicOrigin).origin).toBe(t.config.publicOrigin);
  });

  it('N6 the "Unicode CRLF" trick (U+560A U+560D) comes back percent-encoded, never as raw bytes', async () => {
    const { response } = await signInWith(t, { returnTo: '/\u560A\u560DSet-Cookie:evil=1' });
    expectNoHeaderSplit(response);
    expect(response.headers.location).toBe('/%E5%98%8A%E5%98%8DSet-Cookie:evil=1');
  });

  it.each([
    ['NEL + Set-Cookie', 'Mozilla/5.0\u0085Set-Cookie: evil=1'],
    ['8-bit CSI (ANSI)', 'Mozilla/5.0 \u009b31mred\u009b0m'],
    ['Latin-1 junk', 'Mozilla/5.0 (\u00ff\u00fe) Chrome/120.0.0.0'],
  ])('N6 User-Agent with %s: session device and audit entry hold no control character', async (_, userAgent) => {
    const { response, session } = await signInWith(t, { headers: { 'User-Agent': userAgent } });
    expectNoHeaderSplit(response);
    expect(session.device).not.toMatch(CONTROL);
    const audit = await t.db.collection('audit').findOne({ target: `session:${session._id}`, action: 'login.succeeded' });
    expect(audit?.userAgent).toBeTruthy();
    expect(audit?.userAgent).not.toMatch(CONTROL);
  });

  it.each([
    ['a NEL after the address', '203.0.113.7\u0085', '127.0.0.1'],
    ['a header-looking right-most entry', '203.0.113.7, Set-Cookie: evil=1', '127.0.0.1'],
    ['a hostile left-most entry', '\u009b31m, 203.0.113.7', '203.0.113.7'],
  ])('N6 X-Forwarded-For with %s: the address is a parsed IP or the socket, never the raw text', async (_, forwardedFor, expected) => {
    const { session } = await signInWith(t, { headers: { 'X-Forwarded-For': forwardedFor } });
    const user = await t.services.users.findById(session.userId);
    expect(t.deps.ipCipher.decrypt(session.ip ?? '', session.userId, user?.keySalt)).toBe(expected);
  });

  it.each([
    ['bare CR in User-Agent', 'GET /sign-in HTTP/1.1\r\nHost: x\r\nUser-Agent: a\rSet-Cookie: evil=1\r\n\r\n'],
    ['bare LF in User-Agent', 'GET /sign-in HTTP/1.1\r\nHost: x\r\nUser-Agent: a\nSet-Cookie: evil=1\r\n\r\n'],
    ['an obs-folded User-Agent', 'GET /sign-in HTTP/1.1\r\nHost: x\r\nUser-Agent: a\r\n Set-Cookie: evil=1\r\n\r\n'],
    ['ESC in User-Agent', 'GET /sign-in HTTP/1.1\r\nHost: x\r\nUser-Agent: \x1b[31mred\r\n\r\n'],
    ['ESC in X-Forwarded-For', 'GET /sign-in HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\x1b[0m\r\n\r\n'],
    ['NUL in X-Forwarded-For', 'GET /sign-in HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\x00\r\n\r\n'],
    ['ESC in the path', 'GET /sign-in\x1b[31m HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['DEL in the path', 'GET /sign-in\x7f HTTP/1.1\r\nHost: x\r\n\r\n'],
  ])('N6 raw %s never reaches the app: the HTTP server answers 400', async (_, request) => {
    const before = t.logLines.length;
    expect(await rawSocketRequest(t, Buffer.from(request, 'latin1'))).toBe('HTTP/1.1 400 Bad Request');
    const requests = t.logLines.slice(before).filter((line) => JSON.parse(line).msg === 'http.request');
    expect(requests, 'the app saw the request').toEqual([]);
    await expectStillServing(t);
  });
});

describe('N14 log injection', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = watch.track(await createTestApp({ TRUST_PROXY_HOPS: '1' }));
  });

  const HOSTILE = '%0d%0a%1b[31m%1b]0;owned%07%c2%85%c2%9b31m%e2%80%a8{"level":"fatal","msg":"forged"}';

  it.each([
    ['a hostile path', `/${HOSTILE}`],
    ['a hostile provider id', `/auth/${HOSTILE}/login`],
    ['a hostile return_to', `/auth/dev/login?return_to=/${HOSTILE}`],
    ['a hostile callback state', `/auth/dev/callback?state=${HOSTILE}&code=x`],
    ['a hostile error parameter', `/sign-in?error=${HOSTILE}`],
    ['a hostile unknown API path', `/api/v1/${HOSTILE}`],
  ])('N14 %s is answered without a 5xx and logged as one clean line', async (_, path) => {
    const before = t.logLines.length;
    const response = await t.http
      .get(path)
      .set('User-Agent', 'curl\u0085{"level":"fatal"}\u009b31m')
      .set('X-Forwarded-For', '\u009b31m, 198.51.100.4');
    expect(response.status).toBeLessThan(500);
    const lines = t.logLines.slice(before);
    expectCleanLogLines(lines);
    // The access line keeps the path percent-encoded: nothing was decoded into the log.
    const access = lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'http.request');
    expect(access?.path).not.toMatch(CONTROL);
    expect(lines.some((line) => JSON.parse(line).msg === 'forged')).toBe(false);
  });

  it('N14 a hostile sign-in start and a failed callback write audit entries without control characters', async () => {
    const started = await startLogin(t);
    const response = await t.http
      .get(`/auth/dev/callback?state=${encodeURIComponent(started.state)}&code=${HOSTILE}`)
      .set('Cookie', started.loginCookie)
      .set('User-Agent', 'Mozilla\u0085{"level":"fatal"}\u009b31m')
      .set('Accept', 'application/json');
    expectProblem(response, 400, 'LOGIN_REJECTED');
    const entries = await t.db.collection('audit').find({ action: 'login.failed' }).toArray();
    expect(entries.length).toBeGreaterThan(0);
    for (const value of strings(entries)) expect(value).not.toMatch(CONTROL);
  });

  it('N14 every log line this app wrote is one JSON object with no raw control character', () => {
    expectCleanLogLines(t.logLines);
  });
});

it('N14 every log line of every app in this file is clean', () => {
  expectCleanLogLines(watch.lines);
});

it('keeps every secret of this file (cookies, CSRF tokens, bootstrap password, master key) out of the logs', () => {
  watch.expectNoSecretInLogs();
});
