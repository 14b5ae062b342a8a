// docs/security-tests.md A4 on two instances sharing MongoDB and Redis: a password change or an admin
// reset made through A kills every other session, API token and paired extension on B at the
// next request. Also the reset link (own typ and audience, single use, bound to the token
// version) and the CLI's set-password (stdin, never argv).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, issueApiToken, startBrowserSession, TEST_MASTER_KEY, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { expectProblem } from '../../test/http-checks.js';
import { apiHeaders, localUser, passwordStep, signInWithTotp } from '../../test/local-auth-support.js';
import { cookieFrom } from '../../test/sign-in.js';
import { rememberSecret } from '../../test/suite-audit.js';

let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  a = await createTestApp({ LOCAL_LOGIN: 'all' });
  b = await createTestApp({ LOCAL_LOGIN: 'all' }, { sharedWith: a });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

/** Every kind of credential of the user, each accepted by B before the change. */
async function credentials(user: Awaited<ReturnType<typeof localUser>>) {
  const other = await startBrowserSession(a, user);
  const api = await issueApiToken(a, user);
  const access = await a.services.issuer.mint('access', {
    sub: user._id,
    tokenVersion: 0,
    ttlSeconds: 600,
    sid: api.sessionId,
    scope: ['profile:read'],
  });
  const checks = {
    'other browser session': () => b.http.get('/api/v1/me').set('Cookie', other.cookie),
    'API token': () => b.http.get('/api/v1/me').set('Authorization', `Bearer ${api.token}`),
    "paired extension's access token": () =>
      b.services.authenticator.authenticate(access.token, 'access').then(
        () => ({ status: 200 }),
        () => ({ status: 401 }),
      ),
  };
  for (const [name, check] of Object.entries(checks)) expect((await check()).status, `${name} before`).toBe(200);
  return checks;
}

describe('password change (A4)', () => {
  it('needs the current password, then kills every other credential on the other instance', async () => {
    const user = await localUser(a, 'change@example.com', 'first password 1234', ['user']);
    const checks = await credentials(user);
    const signed = await passwordStep(a, { email: 'change@example.com', password: 'first password 1234' });
    const headers = await apiHeaders(a, cookieFrom(signed.headers['set-cookie'], '__Host-gatehouse') ?? '');
    rememberSecret('new password', 'second password 5678');
    const wrong = await a.http
      .post('/api/v1/me/password')
      .set(headers)
      .send({ currentPassword: 'not it at all', newPassword: 'second password 5678' });
    expectProblem(wrong, 401, 'CREDENTIALS_INVALID');
    for (const [name, check] of Object.entries(checks)) expect((await check()).status, `${name} after a refused change`).toBe(200);

    const changed = await a.http
      .post('/api/v1/me/password')
      .set(headers)
      .send({ currentPassword: 'first password 1234', newPassword: 'second password 5678' });
    expect(changed.status, changed.text).toBe(204);
    for (const [name, check] of Object.entries(checks)) expect((await check()).status, `${name} after the change`).toBe(401);
    // The browser that changed it keeps going with the fresh cookie; the old one is dead.
    const fresh = cookieFrom(changed.headers['set-cookie'], '__Host-gatehouse') ?? '';
    expect((await b.http.get('/api/v1/me').set('Cookie', fresh)).status).toBe(200);
    expect((await b.http.get('/api/v1/me').set('Cookie', headers.Cookie ?? '')).status).toBe(401);
    expectProblem(await passwordStep(b, { email: 'change@example.com', password: 'first password 1234' }), 401, 'CREDENTIALS_INVALID');
    expect((await passwordStep(b, { email: 'change@example.com', password: 'second password 5678' })).status).toBe(200);
    expect(await a.db.collection('audit').countDocuments({ action: 'password.changed', target: `user:${user._id}` })).toBe(2);
  });
});

describe('admin reset (A4, reset link)', () => {
  it('kills everything at once, and the single-use link sets a new password once', async () => {
    const owner = await localUser(a, 'boss@example.com', 'boss password 12345');
    const { cookie } = await signInWithTotp(a, 'boss@example.com', 'boss password 12345');
    const user = await localUser(a, 'forgot@example.com', 'forgotten password 1', ['user']);
    const checks = await credentials(user);

    const issued = await a.http
      .post(`/api/v1/admin/users/${user._id}/password-reset`)
      .set(await apiHeaders(a, cookie))
      .send();
    expect(issued.status, issued.text).toBe(201);
    expect(issued.body.sent).toBe(false);
    const token = new URL(issued.body.url).hash.slice(1);
    rememberSecret('a reset link token', token);
    for (const [name, check] of Object.entries(checks)) expect((await check()).status, `${name} after the reset`).toBe(401);
    expectProblem(await passwordStep(b, { email: 'forgot@example.com', password: 'forgotten password 1' }), 401, 'CREDENTIALS_INVALID');

    // A used link is dead twice over: its jti is claimed and the token version moved on.
    // The link is no session and no API token, and those are no reset link (J10).
    expect((await b.http.get('/api/v1/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    const api = await issueApiToken(a, owner);
    const reset = (body: Record<string, unknown>) => b.http.post('/auth/password/reset').set('Origin', TEST_ORIGIN).send(body);
    expectProblem(await reset({ token: api.token, password: 'brand new password 1' }), 400, 'RESET_LINK_INVALID');
    expectProblem(await reset({ token: `${token.slice(0, -3)}abc`, password: 'brand new password 1' }), 400, 'RESET_LINK_INVALID');
    expectProblem(await reset({ token, password: 'password1234' }), 400, 'PASSWORD_REJECTED');

    rememberSecret('reset password', 'brand new password 1');
    expect((await reset({ token, password: 'brand new password 1' })).status).toBe(204);
    expectProblem(await reset({ token, password: 'another new password 2' }), 400, 'RESET_LINK_INVALID');
    expect((await passwordStep(b, { email: 'forgot@example.com', password: 'brand new password 1' })).status).toBe(200);
    const reasons = (await a.db.collection('audit').find({ action: 'password.reset' }).toArray()).map((entry) => entry.details?.reason);
    expect(reasons).toEqual(expect.arrayContaining(['link_issued', 'link_used', 'token_invalid', 'token_version_changed']));
  });

  it('refuses a link after a later bump of the token version, and an admin resetting an owner', async () => {
    const admin = await localUser(a, 'admin2@example.com', 'admin two password 1', ['admin', 'user']);
    const owner = await localUser(a, 'owner2@example.com', 'owner two password 1');
    await expect(a.services.resets.issue({ kind: 'user', user: admin }, owner._id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const user = await localUser(a, 'bumped@example.com', 'bumped password 123', ['user']);
    const { url } = await a.services.resets.issue({ kind: 'cli' }, user._id);
    const token = new URL(url).hash.slice(1);
    rememberSecret('a reset link token', token);
    await a.services.sessions.revokeAll(user._id, 'test');
    const response = await b.http
      .post('/auth/password/reset')
      .set('Origin', TEST_ORIGIN)
      .send({ token, password: 'bumped new password 1' });
    expectProblem(response, 400, 'RESET_LINK_INVALID');
  });
});

describe('gatehouse users set-password', () => {
  it('reads the password from stdin, never from argv, and checks the policy', async () => {
    const owner = await localUser(a, 'cli-owner@example.com', 'cli owner password 1');
    const run = async (input: string) => {
      const child = spawn(
        process.execPath,
        [fileURLToPath(new URL('../../bin/gatehouse.mjs', import.meta.url)), 'users', 'set-password', 'cli-owner@example.com'],
        {
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            NODE_ENV: 'test',
            MONGODB_URL: a.config.MONGODB_URL,
            REDIS_URL: a.config.REDIS_URL,
            REDIS_KEY_PREFIX: a.config.REDIS_KEY_PREFIX,
            MASTER_KEY: TEST_MASTER_KEY,
            PUBLIC_URL: TEST_ORIGIN,
            LOCAL_LOGIN: 'owner',
          },
        },
      );
      child.stdin.end(input);
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
      });
      child.stderr.on('data', (chunk) => {
        out += chunk;
      });
      const [code] = await once(child, 'exit');
      return { code, out };
    };
    const weak = await run('password\n');
    expect(weak.code).not.toBe(0);
    rememberSecret('cli password', 'a brand new cli password');
    const ok = await run('a brand new cli password\n');
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).not.toContain('a brand new cli password');
    const step = await passwordStep(a, { email: 'cli-owner@example.com', password: 'a brand new cli password' });
    expect(step.body.status).toBe('totp_enrolment_required');
    expect(owner._id).toBeTruthy();
  });
});
