import { Secret, TOTP } from 'otpauth';
import { expect } from 'vitest';
import type { User } from '../src/users/index.js';
import { createUser, TEST_ORIGIN, type TestApp } from './harness.js';
import { cookieFrom } from './sign-in.js';
import { rememberSecret } from './suite-audit.js';

/** A user with an email and a local password, made through the service (as the CLI does). */
export async function localUser(
  t: TestApp,
  email: string,
  password: string,
  roles: User['roles'] = ['owner', 'admin', 'user'],
): Promise<User> {
  rememberSecret(`password of ${email}`, password);
  const user = await createUser(t, { roles, name: email.split('@')[0] });
  await t.db.collection('users').updateOne({ _id: user._id as never }, { $set: { email } });
  const fresh = (await t.services.users.findById(user._id)) as User;
  await t.services.local.setPassword(fresh, password, undefined, 'cli');
  return fresh;
}

export function codeAt(secret: string, timestampMs: number): string {
  return new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: timestampMs });
}

export function passwordStep(t: TestApp, body: Record<string, unknown>, ip?: string) {
  const request = t.http.post('/auth/password').set('Origin', TEST_ORIGIN);
  if (ip) request.set('X-Forwarded-For', ip);
  return request.send(body);
}

/** Password, then enrolment or TOTP, as a browser would; returns the session cookie and extras. */
export async function signInWithTotp(
  t: TestApp,
  email: string,
  password: string,
  secret?: string,
): Promise<{ cookie: string; secret: string; recoveryCodes?: string[] }> {
  const first = await passwordStep(t, { email, password });
  expect(first.status, first.text).toBe(200);
  const login = cookieFrom(first.headers['set-cookie'], '__Host-gatehouse-login') ?? '';
  let usedSecret = secret;
  if (first.body.status === 'totp_enrolment_required') {
    const offer = await t.http
      .post('/auth/password/enrol')
      .set('Origin', TEST_ORIGIN)
      .set('Cookie', login)
      .send({ pending: first.body.pending });
    expect(offer.status, offer.text).toBe(200);
    usedSecret = offer.body.secret as string;
    rememberSecret(`TOTP secret of ${email}`, usedSecret);
  }
  if (!usedSecret) throw new Error('no TOTP secret');
  const second = await t.http
    .post('/auth/password/totp')
    .set('Origin', TEST_ORIGIN)
    .set('Cookie', login)
    .send({ pending: first.body.pending, code: codeAt(usedSecret, t.clock.now().getTime()) });
  expect(second.status, second.text).toBe(200);
  const cookie = cookieFrom(second.headers['set-cookie'], '__Host-gatehouse') ?? '';
  for (const code of second.body.recoveryCodes ?? []) rememberSecret('a recovery code', code);
  return { cookie, secret: usedSecret, recoveryCodes: second.body.recoveryCodes };
}

/** Headers of a cookie API call: cookie, our Origin and the session's CSRF token. */
export async function apiHeaders(t: TestApp, cookie: string): Promise<Record<string, string>> {
  const token = cookie.replace(/^__Host-gatehouse=/, '');
  const { principal } = await t.services.sessions.authenticate(token);
  return { Cookie: cookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': t.services.csrf.forSession(principal.sessionId ?? '') };
}
