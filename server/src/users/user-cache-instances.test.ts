// Issue 14: `GET /api/v1/me` is served from a per-instance user cache that the Redis
// invalidation channel clears. Two instances share MongoDB and Redis: a change made through A
// is seen by B on its very next request, a disabled, banned or deleted principal is refused by
// B even though B holds their record, and while B's subscription is down B trusts no cached copy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../test/dedicated-redis.js';
import { createTestApp, createUser, startBrowserSession, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { expectProblem } from '../../test/http-checks.js';
import type { User } from './index.js';

let a: TestApp;
let b: TestApp;
let owner: { user: User; headers: Record<string, string> };

beforeAll(async () => {
  a = await createTestApp();
  b = await createTestApp({}, { sharedWith: a });
  const user = await createUser(a, { roles: ['admin', 'owner', 'user'], name: 'Owner' });
  const { cookie, sessionId } = await startBrowserSession(a, user);
  owner = { user, headers: { Cookie: cookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': a.services.csrf.forSession(sessionId) } };
  await waitUntil('both caches to subscribe', () => a.services.userCache.trusted && b.services.userCache.trusted);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

describe('the user cache across two instances', () => {
  it('serves B from memory: a write to MongoDB that nobody announces is not seen (the cache is really used)', async () => {
    const user = await createUser(a, { name: 'Cached' });
    const { cookie } = await startBrowserSession(a, user);
    expect((await b.http.get('/api/v1/me').set('Cookie', cookie)).body.name).toBe('Cached');
    await a.db.collection<User>('users').updateOne({ _id: user._id }, { $set: { name: 'Silently renamed' } });
    expect((await b.http.get('/api/v1/me').set('Cookie', cookie)).body.name).toBe('Cached');
    // Any announced change of that user drops B's copy on the next request.
    await a.services.users.onChange(user._id);
    const seen = await b.http.get('/api/v1/me').set('Cookie', cookie);
    expect(seen.body.name).toBe('Silently renamed');
  });

  it('a role change through A is seen by B on the next request (20 rounds)', async () => {
    const user = await createUser(a, { name: 'Roles' });
    const { cookie } = await startBrowserSession(a, user);
    for (let round = 0; round < 20; round++) {
      const admin = round % 2 === 0;
      expect((await b.http.get('/api/v1/me').set('Cookie', cookie)).body.roles).toEqual(admin ? ['user'] : ['admin', 'user']);
      const changed = await a.http.post(`/api/v1/admin/users/${user._id}/roles`).set(owner.headers).send({ admin });
      expect(changed.status, changed.text).toBe(200);
      const seen = await b.http.get('/api/v1/me').set('Cookie', cookie);
      expect(seen.body.roles, `round ${round}`).toEqual(admin ? ['admin', 'user'] : ['user']);
    }
  }, 60_000);

  it('roles changed at sign-in (recordSignIn) are announced too', async () => {
    const user = await createUser(a, { name: 'Signs in' });
    const { cookie } = await startBrowserSession(a, user);
    expect((await b.http.get('/api/v1/me').set('Cookie', cookie)).body.roles).toEqual(['user']);
    await a.services.users.recordSignIn(
      'no-identity',
      user._id,
      { email: null, emailVerified: false, name: null, groups: [] },
      new Date(),
      ['admin', 'user'],
    );
    expect((await b.http.get('/api/v1/me').set('Cookie', cookie)).body.roles).toEqual(['admin', 'user']);
  });

  it('disable, ban and deletion through A are refused by B on the next request, although B cached the user', async () => {
    for (const change of ['disable', 'ban', 'delete'] as const) {
      const user = await createUser(a, { name: `To ${change}` });
      const { cookie } = await startBrowserSession(a, user);
      for (let i = 0; i < 3; i++) expect((await b.http.get('/api/v1/me').set('Cookie', cookie)).status).toBe(200);
      const response =
        change === 'delete'
          ? await a.http.delete(`/api/v1/admin/users/${user._id}`).set(owner.headers)
          : await a.http.post(`/api/v1/admin/users/${user._id}/${change}`).set(owner.headers).send({});
      expect(response.status, `${change}: ${response.text}`).toBeLessThan(300);
      const refused = await b.http.get('/api/v1/me').set('Cookie', cookie);
      expect(refused.status, change).toBe(401);
      expect(['TOKEN_ACCOUNT_DISABLED', 'TOKEN_REVOKED', 'TOKEN_INVALID']).toContain(refused.body.code);
    }
  }, 60_000);

  it('fails closed: while B’s subscription is down, B reads MongoDB; after it resubscribes it starts empty', async () => {
    const user = await createUser(a, { name: 'Before' });
    const { cookie } = await startBrowserSession(a, user);
    expect((await b.http.get('/api/v1/me').set('Cookie', cookie)).body.name).toBe('Before');
    // Drop B's subscriber connection: announcements made now would be lost.
    const subscriber = (b.services.userCache as unknown as { subscription: { subscriber: { stream: { destroy(): void } } } }).subscription
      .subscriber;
    subscriber.stream.destroy();
    await waitUntil('B to distrust its cache', () => !b.services.userCache.trusted);
    await a.db.collection<User>('users').updateOne({ _id: user._id }, { $set: { name: 'Changed while down' } });
    expect((await b.http.get('/api/v1/me').set('Cookie', cookie)).body.name).toBe('Changed while down');
    await waitUntil('B to resubscribe', () => b.services.userCache.trusted);
    expect((await b.http.get('/api/v1/me').set('Cookie', cookie)).body.name).toBe('Changed while down');
    expectProblem(await b.http.get('/api/v1/me'), 401, 'UNAUTHENTICATED');
  }, 60_000);
});
