// Issue 14: the session list (`GET /api/v1/me/sessions`) is served from a per-instance copy of
// the user's sessions that every write announces away (sessions/list-cache.ts). Two instances
// share MongoDB and Redis: a session created, revoked or seen again through A shows on B's very
// next list; pages from the copy are the pages the store's query gives; while B's subscription
// is down B lists from MongoDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../test/dedicated-redis.js';
import { createTestApp, createUser, issueApiToken, type TestApp } from '../../test/harness.js';
import type { User } from '../users/index.js';

let a: TestApp;
let b: TestApp;
/** A third instance with the caches switched off: what the store's own query answers. */
let uncached: TestApp;

beforeAll(async () => {
  a = await createTestApp();
  b = await createTestApp({}, { sharedWith: a });
  uncached = await createTestApp({ USER_CACHE_SECONDS: '0' }, { sharedWith: a });
  await waitUntil('both caches to subscribe', () => a.services.userCache.trusted && b.services.userCache.trusted);
});
afterAll(async () => {
  await uncached?.close();
  await b?.close();
  await a?.close();
});

async function list(
  t: TestApp,
  token: string,
  query = '',
): Promise<{ sessions: { id: string; lastSeenAt: string }[]; next: string | null }> {
  const response = await t.http.get(`/api/v1/me/sessions${query}`).set('Authorization', `Bearer ${token}`);
  expect(response.status, response.text).toBe(200);
  return response.body;
}

/** The three instances are one deployment: their clocks move together. */
const advance = (ms: number) => {
  for (const t of [a, b, uncached]) t.clock.advance(ms);
};

const ids = (page: { sessions: { id: string }[] }) => page.sessions.map((session) => session.id);

describe('the session-list cache across two instances', () => {
  let user: User;
  let token: string;
  beforeAll(async () => {
    user = await createUser(a, { name: 'Lister' });
    ({ token } = await issueApiToken(a, user));
  });

  it('serves B from memory: a session written to MongoDB without an announcement is not listed (the copy is really used)', async () => {
    const before = ids(await list(b, token));
    const { record } = await a.services.sessions.createApiToken(
      user,
      { requestId: 't', ip: '127.0.0.1', userAgent: 't' },
      { name: 'x', scopes: ['profile:read'], expiresInDays: 1 },
    );
    // The announcement dropped B's copy: the new one shows.
    const after = ids(await list(b, token));
    expect(after).toContain(record._id);
    expect(after.length).toBe(before.length + 1);
    await a.db
      .collection<{ _id: string; createdAt?: Date }>('sessions')
      .insertOne({ ...record, _id: 'silent-session-0001', createdAt: new Date() });
    expect(ids(await list(b, token))).not.toContain('silent-session-0001');
    expect(ids(await list(uncached, token))).toContain('silent-session-0001');
    await a.db.collection<{ _id: string; createdAt?: Date }>('sessions').deleteOne({ _id: 'silent-session-0001' });
  });

  it('a session created, revoked or seen again through A is on B’s next list (10 rounds)', async () => {
    for (let round = 0; round < 10; round++) {
      const created = await issueApiToken(a, user, ['profile:read']);
      expect(ids(await list(b, token))).toContain(created.sessionId);
      expect(await a.services.sessions.revoke(created.sessionId, user._id, 'test')).toBe(true);
      expect(ids(await list(b, token))).not.toContain(created.sessionId);
    }
    const { sessionId } = await issueApiToken(a, user, ['profile:read']);
    const seenBefore = (await list(b, token)).sessions.find((s) => s.id === sessionId)?.lastSeenAt;
    advance(120_000);
    const seenAt = a.clock.now();
    expect(await a.services.sessions.touch(sessionId, seenAt, 3_600_000, 60_000)).not.toBeNull();
    const seenAfter = (await list(b, token)).sessions.find((s) => s.id === sessionId)?.lastSeenAt;
    expect(seenAfter).not.toBe(seenBefore);
    expect(seenAfter).toBe(seenAt.toISOString());
  });

  it('revoke-all through A empties B’s list at once (B then refuses the token too)', async () => {
    const other = await createUser(a, { name: 'Stopped' });
    const { token: otherToken } = await issueApiToken(a, other);
    await issueApiToken(a, other, ['profile:read']);
    expect(ids(await list(b, otherToken))).toHaveLength(2);
    await a.services.sessions.revokeAll(other._id, 'admin_revoked_all');
    expect((await b.http.get('/api/v1/me/sessions').set('Authorization', `Bearer ${otherToken}`)).status).toBe(401);
    expect(await b.services.sessions.listForUser(other, null)).toEqual({ sessions: [], next: null });
  });

  it('pages from the copy are the store’s pages: order, cursor, limit and expiry', async () => {
    const pager = await createUser(a, { name: 'Pager' });
    const { token: pagerToken } = await issueApiToken(a, pager);
    for (let i = 0; i < 6; i++) {
      advance(1_000);
      await issueApiToken(a, pager, ['profile:read'], i === 2 ? 1 : 30);
    }
    const walk = async (t: TestApp) => {
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page = await list(t, pagerToken, `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        pages.push(ids(page));
        cursor = page.next;
      } while (cursor);
      return pages;
    };
    const fromStore = await walk(uncached);
    expect(fromStore.flat()).toHaveLength(7);
    expect(await walk(b)).toEqual(fromStore);
    // Two days later the one-day token has expired: both leave it out.
    advance(2 * 86_400_000);
    const later = await walk(uncached);
    expect(later.flat()).toHaveLength(6);
    expect(await walk(b)).toEqual(later);
  });

  it('fails closed: while B’s subscription is down, B lists from MongoDB; after it resubscribes it starts empty', async () => {
    const quiet = await createUser(a, { name: 'Quiet' });
    const { token: quietToken, sessionId } = await issueApiToken(a, quiet);
    expect(ids(await list(b, quietToken))).toEqual([sessionId]);
    const subscription = (b.services.userCache as unknown as { subscription: { subscriber: { stream: { destroy(): void } } } })
      .subscription;
    subscription.subscriber.stream.destroy();
    await waitUntil('B to distrust its caches', () => !b.services.userCache.trusted);
    const record = await a.db.collection<{ _id: string; createdAt?: Date }>('sessions').findOne({ _id: sessionId });
    await a.db
      .collection<{ _id: string; createdAt?: Date }>('sessions')
      .insertOne({ ...record, _id: 'while-down-session1', createdAt: new Date(0) });
    expect(ids(await list(b, quietToken))).toEqual([sessionId, 'while-down-session1']);
    await waitUntil('B to resubscribe', () => b.services.userCache.trusted);
    expect(ids(await list(b, quietToken))).toEqual([sessionId, 'while-down-session1']);
  });
});
