// "Set a password" from the account: only for accounts LOCAL_LOGIN allows, only from a session
// opened minutes ago, only when there is no password yet (changing one needs the current one).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createUser, startBrowserSession, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { expectProblem } from '../../test/http-checks.js';
import { passwordStep } from '../../test/local-auth-support.js';
import { rememberSecret } from '../../test/suite-audit.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function headersFor(
  roles: Parameters<typeof createUser>[1] extends infer F ? (F extends { roles?: infer R } ? R : never) : never,
  email: string,
) {
  const user = await createUser(t, { roles });
  await t.db.collection('users').updateOne({ _id: user._id as never }, { $set: { email } });
  const { cookie, sessionId } = await startBrowserSession(t, user);
  return { Cookie: cookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': t.services.csrf.forSession(sessionId) };
}

describe('POST /api/v1/me/password/set', () => {
  it('lets an owner with a fresh session set a first password, once', async () => {
    const headers = await headersFor(['owner', 'user'], 'fresh-owner@example.com');
    rememberSecret('set password', 'freshly set password 1');
    expectProblem(await t.http.post('/api/v1/me/password/set').set(headers).send({ password: 'short' }), 400, 'PASSWORD_REJECTED');
    expect((await t.http.post('/api/v1/me/password/set').set(headers).send({ password: 'freshly set password 1' })).status).toBe(204);
    expect((await passwordStep(t, { email: 'fresh-owner@example.com', password: 'freshly set password 1' })).body.status).toBe(
      'totp_enrolment_required',
    );
    // A second "set" would replace the password without the current one: refused.
    expectProblem(await t.http.post('/api/v1/me/password/set').set(headers).send({ password: 'another password 123' }), 403, 'FORBIDDEN');
  });

  it('refuses a session older than 10 minutes, and non-owners under LOCAL_LOGIN=owner', async () => {
    const old = await headersFor(['owner', 'user'], 'old-owner@example.com');
    t.clock.advance(11 * 60_000);
    expectProblem(
      await t.http.post('/api/v1/me/password/set').set(old).send({ password: 'freshly set password 1' }),
      403,
      'REAUTHENTICATION_REQUIRED',
    );
    const plain = await headersFor(['user'], 'plain-user@example.com');
    expectProblem(
      await t.http.post('/api/v1/me/password/set').set(plain).send({ password: 'freshly set password 1' }),
      403,
      'LOCAL_LOGIN_DISABLED',
    );
    expect(await t.db.collection('credentials').countDocuments({ passwordHash: { $exists: true } })).toBe(1);
  });
});
