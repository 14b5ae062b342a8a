import { expect } from 'vitest';
import { signInAtDevIdp } from '../../scripts/dev-idp/index.mjs';
import type { TestApp } from './harness.js';

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
