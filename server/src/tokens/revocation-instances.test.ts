// Issue 4, "Done when": two backend instances against the same MongoDB and Redis. After a
// revocation made through instance A returns, instance B refuses the old token on the very next
// request — no sleep, no retry — 100 times in a row. B has already accepted (and cached) the
// token each time, so this also shows that its verified-token cache never skips the revocation
// check (docs/architecture.md "Tokens and revocation").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createUser, issueApiToken, startBrowserSession, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { expectProblem } from '../../test/http-checks.js';
import type { User } from '../users/index.js';

const ROUNDS = 100;

let a: TestApp;
let b: TestApp;
/** An admin whose cookie session on A makes the revocations. */
let admin: { user: User; headers: Record<string, string> };

beforeAll(async () => {
  a = await createTestApp();
  b = await createTestApp({}, { sharedWith: a });
  const user = await createUser(a, { roles: ['admin', 'user'], name: 'Admin' });
  const { cookie, sessionId } = await startBrowserSession(a, user);
  admin = { user, headers: { Cookie: cookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': a.services.csrf.forSession(sessionId) } };
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

describe('two instances sharing MongoDB and Redis', () => {
  it('really are two instances of one deployment: same database and Redis prefix, separate keyrings and caches', () => {
    expect(b.config.MONGODB_URL).toBe(a.config.MONGODB_URL);
    expect(b.config.REDIS_KEY_PREFIX).toBe(a.config.REDIS_KEY_PREFIX);
    expect(b.services.keyring).not.toBe(a.services.keyring);
    expect(b.services.issuer).not.toBe(a.services.issuer);
    expect(b.services.keyring.signingKey().kid).toBe(a.services.keyring.signingKey().kid);
  });

  it(`a session revoked by DELETE on A is refused by B on the next request (${ROUNDS} rounds)`, async () => {
    const user = await createUser(a, { name: 'Roundtrip' });
    // The owner revokes each new session from another session of theirs, through A.
    const owner = await startBrowserSession(a, user);
    const headers = { Cookie: owner.cookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': a.services.csrf.forSession(owner.sessionId) };
    for (let round = 0; round < ROUNDS; round++) {
      const session = await startBrowserSession(a, user);
      const onB = () => b.http.get('/api/v1/me').set('Cookie', session.cookie);
      expect((await onB()).status, `round ${round}: B accepts the fresh session`).toBe(200);
      const revoked = await a.http.delete(`/api/v1/me/sessions/${session.sessionId}`).set(headers);
      expect(revoked.status, `round ${round}: ${revoked.text}`).toBe(204);
      const refused = await onB();
      expect(refused.status, `round ${round}: B still accepted the revoked session`).toBe(401);
      expect(refused.body.code).toBe('TOKEN_REVOKED');
    }
  }, 180_000);

  it(`a user's tokens after an admin revoke-all on A are refused by B on the next request (${ROUNDS} rounds)`, async () => {
    const user = await createUser(a, { name: 'Everything' });
    for (let round = 0; round < ROUNDS; round++) {
      // Minted with the user's current tokenVersion, so each round starts valid.
      const session = await startBrowserSession(a, user);
      const api = round % 4 === 0 ? await issueApiToken(a, user) : null;
      expect((await b.http.get('/api/v1/me').set('Cookie', session.cookie)).status, `round ${round}`).toBe(200);
      if (api) expect((await b.http.get('/api/v1/me/sessions').set('Authorization', `Bearer ${api.token}`)).status).toBe(200);

      const response = await a.http.post(`/api/v1/users/${user._id}/sessions/revoke-all`).set(admin.headers);
      expect(response.status, `round ${round}: ${response.text}`).toBe(200);

      const refused = await b.http.get('/api/v1/me').set('Cookie', session.cookie);
      expect(refused.status, `round ${round}: B still accepted a session after revoke-all`).toBe(401);
      expect(refused.body.code).toBe('TOKEN_REVOKED');
      if (api) expectProblem(await b.http.get('/api/v1/me/sessions').set('Authorization', `Bearer ${api.token}`), 401, 'TOKEN_REVOKED');
    }
    expect((await a.services.users.findById(user._id))?.tokenVersion).toBe(ROUNDS);
  }, 180_000);

  it('an API token revoked through A (DELETE and RFC 7009) is refused by B on the next request', async () => {
    const user = await createUser(a);
    const owner = await startBrowserSession(a, user);
    const headers = { Cookie: owner.cookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': a.services.csrf.forSession(owner.sessionId) };
    for (let round = 0; round < 20; round++) {
      const api = await issueApiToken(a, user);
      const onB = () => b.http.get('/api/v1/me/sessions').set('Authorization', `Bearer ${api.token}`);
      expect((await onB()).status).toBe(200);
      const revoked =
        round % 2 === 0
          ? await a.http.delete(`/api/v1/me/sessions/${api.sessionId}`).set(headers)
          : await a.http.post('/oauth/revoke').type('form').send({ token: api.token });
      expect(revoked.status).toBeLessThan(300);
      expectProblem(await onB(), 401, 'TOKEN_REVOKED');
    }
  }, 60_000);

  it('logout on A and a disabled account are refused by B on the next request', async () => {
    const user = await createUser(a);
    const session = await startBrowserSession(a, user);
    const other = await startBrowserSession(a, user);
    expect((await b.http.get('/api/v1/me').set('Cookie', session.cookie)).status).toBe(200);
    const logout = await a.http
      .post('/api/v1/login/logout')
      .set({ Cookie: session.cookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': a.services.csrf.forSession(session.sessionId) });
    expect(logout.status).toBe(204);
    expectProblem(await b.http.get('/api/v1/me').set('Cookie', session.cookie), 401, 'TOKEN_REVOKED');

    expect((await b.http.get('/api/v1/me').set('Cookie', other.cookie)).status).toBe(200);
    await a.db.collection<User>('users').updateOne({ _id: user._id }, { $set: { status: 'banned' } });
    await a.services.revocation.userChanged(user._id, { tokenVersion: 0, status: 'banned' });
    expectProblem(await b.http.get('/api/v1/me').set('Cookie', other.cookie), 401, 'TOKEN_ACCOUNT_DISABLED');
  });
});
