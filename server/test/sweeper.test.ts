import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepExpired } from '../src/store/index.js';
import { createTestApp, type TestApp } from './harness.js';

describe('the sweeper', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('drops denylist entries of expired tokens and sessions that ended over 30 days ago, nothing else', async () => {
    const now = t.clock.now().getTime();
    const day = 86_400_000;
    await t.db.collection<{ _id: string; expiresAt: Date }>('revoked_tokens').insertMany([
      { _id: 'expired-jti', expiresAt: new Date(now - 1000) },
      { _id: 'live-jti', expiresAt: new Date(now + day) },
    ]);
    const session = (id: string, endedDaysAgo: number) => ({
      _id: id,
      userId: 'u1',
      absoluteExpiresAt: new Date(now - endedDaysAgo * day),
      revokedAt: null,
    });
    await t.db
      .collection<{ _id: string }>('sessions')
      .insertMany([session('ended-long-ago', 31), session('ended-recently', 2), session('live', -1)]);

    expect(await sweepExpired(t.db, t.clock)).toEqual({ tokens: 1, sessions: 1 });
    expect((await t.db.collection('revoked_tokens').find().toArray()).map((d) => d._id)).toEqual(['live-jti']);
    expect((await t.db.collection('sessions').find().sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual(['ended-recently', 'live']);
  });
});
