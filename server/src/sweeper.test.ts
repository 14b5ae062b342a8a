import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test/harness.js';
import { sweepExpired } from './sweeper.js';

describe('the sweeper', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('drops expired denylist entries, and sessions, pairings, refresh tokens and invitations that ended over 30 days ago, nothing else', async () => {
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

    await t.db.collection<{ _id: string; expiresAt: Date }>('pairings').insertMany([
      { _id: 'pairing-long-ago', expiresAt: new Date(now - 31 * day) },
      { _id: 'pairing-pending', expiresAt: new Date(now + 600_000) },
    ]);
    await t.db.collection<{ _id: string; sessionExpiresAt: Date }>('refresh_tokens').insertMany([
      { _id: 'rt-of-ended-session', sessionExpiresAt: new Date(now - 31 * day) },
      { _id: 'rt-rotated-but-session-live', sessionExpiresAt: new Date(now + day) },
    ]);

    await t.db.collection<{ _id: string; expiresAt: Date; endedAt?: Date }>('invitations').insertMany([
      { _id: 'invitation-expired-long-ago', expiresAt: new Date(now - 31 * day) },
      { _id: 'invitation-accepted-long-ago', expiresAt: new Date(now + day), endedAt: new Date(now - 31 * day) },
      { _id: 'invitation-open', expiresAt: new Date(now + day) },
    ]);
    await t.db.collection<{ _id: string }>('invitation_claims').insertOne({ _id: 'invitation-accepted-long-ago' });

    expect(await sweepExpired(t.db, t.clock)).toEqual({ tokens: 1, sessions: 1, pairings: 1, invitations: 2 });
    expect((await t.db.collection('invitations').find().toArray()).map((d) => d._id)).toEqual(['invitation-open']);
    expect(await t.db.collection('invitation_claims').countDocuments()).toBe(0);
    expect((await t.db.collection('pairings').find().toArray()).map((d) => d._id)).toEqual(['pairing-pending']);
    // A rotated refresh token stays while its session lives: it is how a replay is recognised.
    expect((await t.db.collection('refresh_tokens').find().toArray()).map((d) => d._id)).toEqual(['rt-rotated-but-session-live']);
    expect((await t.db.collection('revoked_tokens').find().toArray()).map((d) => d._id)).toEqual(['live-jti']);
    expect((await t.db.collection('sessions').find().sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual(['ended-recently', 'live']);
  });
});
