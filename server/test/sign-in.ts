import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { signInAtDevIdp } from '../../scripts/dev-idp/index.mjs';
import type { TestApp } from './harness.js';
import { rememberSecret } from './suite-audit.js';

export const ALICE = { login: 'alice@example.com', password: 'alice-password' };
export const BOB = { login: 'bob@example.com', password: 'bob-password' };

/** Returns `name=value` of a Set-Cookie header by cookie name, or null. */
export function cookieFrom(setCookie: string[] | string | undefined, name: string): string | null {
  const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const line = list.find((candidate) => candidate.startsWith(`${name}=`));
  const pair = line?.split(';')[0];
  return pair && pair !== `${name}=` ? pair : null;
}

export interface StartedLogin {
  /** The authorization URL at the IdP. */
  location: URL;
  /** `__Host-gatehouse-login=…` binding this browser to the started sign-in. */
  loginCookie: string;
  state: string;
}

/** `GET /auth/<provider>/login` as a browser would do it. */
export async function startLogin(
  t: TestApp,
  options: { provider?: string; returnTo?: string; cookie?: string } = {},
): Promise<StartedLogin> {
  const query = options.returnTo === undefined ? '' : `?return_to=${encodeURIComponent(options.returnTo)}`;
  const request = t.http.get(`/auth/${options.provider ?? 'dev'}/login${query}`);
  if (options.cookie) request.set('Cookie', options.cookie);
  const response = await request;
  expect(response.status, response.text).toBe(302);
  const loginCookie = cookieFrom(response.headers['set-cookie'], '__Host-gatehouse-login');
  if (!loginCookie) throw new Error('no login cookie');
  const location = new URL(response.headers.location ?? '');
  return { location, loginCookie, state: location.searchParams.get('state') ?? '' };
}

/** Completes the login at the development IdP; returns the callback URL it redirects to. */
export async function authorizeAtIdp(started: StartedLogin, user = ALICE): Promise<URL> {
  return new URL(await signInAtDevIdp(started.location.href, user));
}

/** Sends the browser back to Gatehouse's callback (path + query of the IdP redirect). */
export function callback(t: TestApp, callbackUrl: URL, cookie: string | null) {
  const request = t.http.get(callbackUrl.pathname + callbackUrl.search);
  if (cookie) request.set('Cookie', cookie);
  return request;
}

/** The whole SSO sign-in; returns the session cookie pair `__Host-gatehouse=…`. */
export async function signIn(t: TestApp, user = ALICE): Promise<{ sessionCookie: string; location: string }> {
  const started = await startLogin(t);
  const back = await authorizeAtIdp(started, user);
  const response = await callback(t, back, started.loginCookie);
  expect(response.status, response.text).toBe(302);
  const sessionCookie = cookieFrom(response.headers['set-cookie'], '__Host-gatehouse');
  if (!sessionCookie) throw new Error('no session cookie');
  return { sessionCookie, location: response.headers.location ?? '' };
}

/** The session cookie's name; the login cookie is `__Host-gatehouse-login`. */
export const SESSION_COOKIE = '__Host-gatehouse';

/** The callback as an API client sends it: asking for problem+json instead of the HTML page. */
export function callbackJson(t: TestApp, callbackUrl: URL, cookie: string | null) {
  return callback(t, callbackUrl, cookie).set('Accept', 'application/json');
}

/** All Set-Cookie lines of a response. */
export function setCookieLines(response: { headers: Record<string, unknown> }): string[] {
  return [response.headers['set-cookie']].flat().filter((line): line is string => typeof line === 'string');
}

export interface ExpectedRefusal {
  status: number;
  code: string;
  /** The audit entry the refusal must leave, matched by the response's request id; null: none expected. */
  audit: { action: 'login.failed' | 'login.refused'; reason: string } | null;
}

interface HttpResult {
  status: number;
  text: string;
  body: unknown;
  headers: Record<string, unknown>;
}

/**
 * Runs one request and checks the general rule of docs/security-tests.md for a bad input: not accepted (no
 * session cookie, no new document in `sessions`), the expected 4xx (or 503) with its stable
 * code and never another 5xx, and the audit entry of the rejection (action, outcome, reason)
 * written under the request's id.
 */
export async function expectRefused<R extends HttpResult>(t: TestApp, act: () => PromiseLike<R>, expected: ExpectedRefusal): Promise<R> {
  const sessionsBefore = await t.db.collection('sessions').countDocuments();
  const response = await act();
  expect(response.status, response.text).toBe(expected.status);
  expect(response.status < 500 || response.status === 503, `status ${response.status}`).toBe(true);
  expect((response.body as { code?: unknown } | null)?.code).toBe(expected.code);
  expect(setCookieLines(response).filter((line) => line.startsWith(`${SESSION_COOKIE}=`))).toEqual([]);
  expect(await t.db.collection('sessions').countDocuments()).toBe(sessionsBefore);
  if (expected.audit) {
    const requestId = response.headers['x-request-id'];
    expect(requestId).toEqual(expect.any(String));
    const entries = await t.db.collection('audit').find({ requestId }).toArray();
    expect(entries).toEqual([
      expect.objectContaining({
        action: expected.audit.action,
        outcome: expected.audit.action === 'login.refused' ? 'refused' : 'failure',
        details: expect.objectContaining({ reason: expected.audit.reason }),
      }),
    ]);
  }
  return response;
}

/** The user a successful callback signed in, read from its `login.succeeded` audit entry. */
export async function signedInUserId(
  t: TestApp,
  response: { status: number; text: string; headers: Record<string, unknown> },
): Promise<string> {
  expect(response.status, response.text).toBe(302);
  const entry = await t.db.collection('audit').findOne({ requestId: response.headers['x-request-id'], action: 'login.succeeded' });
  const actor = String(entry?.actor ?? '');
  expect(actor).toMatch(/^user:./);
  return actor.slice('user:'.length);
}

/**
 * Collects the secrets a test handled (state, code, nonce, PKCE verifier, login cookie,
 * client secrets, ID tokens) and checks that none reached a log line or the audit collection.
 */
export class SecretWatch {
  private readonly secrets = new Set<string>();

  add(...values: (string | null | undefined)[]): void {
    for (const value of values)
      if (value && value.length >= 8) {
        this.secrets.add(value);
        rememberSecret('a sign-in secret', value);
      }
  }

  /** Remembers what a started login carries, including the nonce and verifier kept in Redis. */
  async addLogin(t: TestApp, started: StartedLogin): Promise<void> {
    this.add(started.state, started.location.searchParams.get('nonce'), started.loginCookie.split('=')[1]);
    const saved = await t.redis.get(`oidc:state:${createHash('sha256').update(started.state).digest('base64url')}`);
    if (saved) {
      const { nonce, codeVerifier } = JSON.parse(saved) as { nonce?: string; codeVerifier?: string };
      this.add(nonce, codeVerifier);
    }
  }

  addCallback(callbackUrl: URL): void {
    this.add(callbackUrl.searchParams.get('code'), callbackUrl.searchParams.get('state'));
  }

  async expectNotLeaked(t: TestApp): Promise<void> {
    const logs = t.logLines.join('\n');
    const audit = JSON.stringify(await t.db.collection('audit').find().toArray());
    for (const secret of this.secrets) {
      expect(logs.includes(secret), `a secret (${secret.slice(0, 4)}…) is in the logs`).toBe(false);
      expect(audit.includes(secret), `a secret (${secret.slice(0, 4)}…) is in the audit collection`).toBe(false);
    }
  }
}
