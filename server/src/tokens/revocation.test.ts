// RevocationState against the real Redis and FerretDB, for what HTTP tests cannot time.
// - A request that misses the user mirror reads MongoDB, and before it writes what it read back
//   to Redis, an admin's revoke-all lands. The late write must not put the old tokenVersion back.
// - The checks of one event-loop turn share one script call (revocation-facts.ts): every check
//   still gets the verdict it gets alone, two claims of one once-key in the same call still see
//   a replay, a burst larger than one call holds is split, and when the call fails each check
//   falls back on its own, as it would alone. Checks asking while a call is out wait for it and go
//   in the next call, which reads what changed meanwhile; when the call fails they fall back with it.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Collection, Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { systemClock } from '../context.js';
import { randomId } from '../crypto/index.js';
import { createLogger } from '../log/index.js';
import { COLLECTIONS, connectMongo, createRedis, redisReady } from '../store/index.js';
import { RevocationState } from './revocation.js';
import { MAX_CHECKS_PER_CALL } from './revocation-facts.js';

let redis: Redis;
let mongo: { client: MongoClient; db: Db };
const prefix = `u${randomBytes(4).toString('hex')}:`;
const log = createLogger('silent');
const channel = `${prefix}invalidate`;
/** Script calls this client sent (EVALSHA, and EVAL when the script was not loaded yet). */
let scriptCalls = 0;

beforeAll(async () => {
  const stack = inject('stack');
  redis = createRedis(stack.redisUrl, { timeoutMs: 1000, keyPrefix: prefix });
  redis.on('error', () => undefined);
  // Each RevocationState listens for 'ready' on its client (twice); these tests make several on one.
  redis.setMaxListeners(32);
  await redisReady(redis, 5000);
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command, stream) => {
    if (command.name === 'evalsha' || command.name === 'eval') scriptCalls++;
    return send(command, stream);
  }) as Redis['sendCommand'];
  mongo = await connectMongo(`${stack.mongoUrl}/rev_${randomBytes(4).toString('hex')}`, 2000);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys.map((key) => key.slice(prefix.length)));
  redis.disconnect();
  await mongo.db.dropDatabase();
  await mongo.client.close();
});

/** A Db whose `users.findOne` answers only when the test opens the gate (after reading). */
function gatedDb(db: Db): { db: Db; open(): void; reading: Promise<void> } {
  let open!: () => void;
  let started!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const reading = new Promise<void>((resolve) => {
    started = resolve;
  });
  const users = db.collection(COLLECTIONS.users);
  const slowUsers = new Proxy(users, {
    get(target, property, receiver) {
      if (property !== 'findOne') return Reflect.get(target, property, receiver);
      return async (...args: Parameters<Collection['findOne']>) => {
        const found = await target.findOne(...args);
        started();
        await gate;
        return found;
      };
    },
  });
  const proxy = { collection: (name: string) => (name === COLLECTIONS.users ? slowUsers : db.collection(name)) } as unknown as Db;
  return { db: proxy, open, reading };
}

describe('RevocationState', () => {
  it('a mirror write from a read that started before a tokenVersion bump does not bring the old version back', async () => {
    const userId = randomId();
    const users = mongo.db.collection<{ _id: string; tokenVersion: number; status: string }>(COLLECTIONS.users);
    await users.insertOne({ _id: userId, tokenVersion: 0, status: 'active' });
    const other = new RevocationState(mongo.db, redis, systemClock, log, channel);
    await other.check({ userId: randomId(), jti: randomId(), tokenVersion: 0 }).catch(() => undefined); // sets the epoch

    const gated = gatedDb(mongo.db);
    const slow = new RevocationState(gated.db, redis, systemClock, log, channel);
    const inFlight = slow.check({ userId, jti: randomId(), tokenVersion: 0 }); // misses the mirror, reads tv 0 …
    await gated.reading;
    // … and meanwhile an admin revokes everything: MongoDB first, then the mirror.
    await users.updateOne({ _id: userId }, { $set: { tokenVersion: 1 } });
    await other.userChanged(userId, { tokenVersion: 1, status: 'active' });
    gated.open();
    await inFlight; // this request began before the change; it may pass

    await expect(other.check({ userId, jti: randomId(), tokenVersion: 0 })).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(other.check({ userId, jti: randomId(), tokenVersion: 1 })).resolves.toBeUndefined();
  });
});

type Verdict = 'ok' | string;

async function until(condition: () => boolean): Promise<void> {
  for (let tries = 0; !condition(); tries++) {
    if (tries > 200) throw new Error('condition not met in 2 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
async function verdicts(checks: Promise<void>[]): Promise<Verdict[]> {
  const settled = await Promise.allSettled(checks);
  return settled.map((result) => (result.status === 'fulfilled' ? 'ok' : (result.reason as { code: string }).code));
}

/**
 * A client whose script calls are sent at once, the first one's answer held until `release()`:
 * then it `answers`, or `fails` as a timed-out command does.
 */
async function heldFirstCall(then: 'answers' | 'fails') {
  const client = redis.duplicate();
  client.on('error', () => undefined);
  await redisReady(client, 5000);
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command, stream) => {
    const reply = send(command, stream);
    if (command.name !== 'evalsha' && command.name !== 'eval') return reply;
    calls++;
    if (calls > 1) return reply;
    return (reply as Promise<unknown>).then(async (value) => {
      await gate;
      if (then === 'fails') throw new Error('Command timed out');
      return value;
    });
  }) as Redis['sendCommand'];
  return { client, release, calls: () => calls };
}

/** Users and revocations in MongoDB and mirrored in Redis, as the services write them. */
async function fixtures(state: RevocationState) {
  const users = mongo.db.collection<{ _id: string; tokenVersion: number; status: string }>(COLLECTIONS.users);
  const sessions = mongo.db.collection<{ _id: string; userId: string; revokedAt: Date | null; absoluteExpiresAt: Date }>(
    COLLECTIONS.sessions,
  );
  const active = randomId();
  const disabled = randomId();
  const bumped = randomId();
  await users.insertMany([
    { _id: active, tokenVersion: 0, status: 'active' },
    { _id: disabled, tokenVersion: 0, status: 'disabled' },
    { _id: bumped, tokenVersion: 1, status: 'active' },
  ]);
  await state.userChanged(disabled, { tokenVersion: 0, status: 'disabled' });
  await state.userChanged(bumped, { tokenVersion: 1, status: 'active' });
  const deniedJti = randomId();
  await state.denyToken(deniedJti, new Date(Date.now() + 3_600_000));
  const liveSession = randomId();
  const revokedSession = randomId();
  const later = new Date(Date.now() + 3_600_000);
  await sessions.insertMany([
    { _id: liveSession, userId: active, revokedAt: null, absoluteExpiresAt: later },
    { _id: revokedSession, userId: active, revokedAt: new Date(), absoluteExpiresAt: later },
  ]);
  await state.sessionsRevoked([{ id: revokedSession, absoluteExpiresAt: later }]);
  return { active, disabled, bumped, deniedJti, liveSession, revokedSession };
}

describe('revocation checks of one turn, one script call', () => {
  it('each check in a shared call gets the verdict it gets alone, and a once-key claimed twice in it is a replay', async () => {
    const state = new RevocationState(mongo.db, redis, systemClock, log, channel);
    const f = await fixtures(state);
    const once = { key: `dpop:jti:${randomId()}`, ttlSeconds: 300 };
    const queries = [
      { userId: f.active, jti: randomId(), tokenVersion: 0, sid: f.liveSession },
      { userId: f.active, jti: f.deniedJti, tokenVersion: 0 },
      { userId: f.active, jti: randomId(), tokenVersion: 0, sid: f.revokedSession },
      { userId: f.disabled, jti: randomId(), tokenVersion: 0 },
      { userId: f.bumped, jti: randomId(), tokenVersion: 0 },
      { userId: f.bumped, jti: randomId(), tokenVersion: 1 },
      { userId: randomId(), jti: randomId(), tokenVersion: 0 },
      { userId: f.active, jti: randomId(), tokenVersion: 0, once },
      { userId: f.active, jti: randomId(), tokenVersion: 0, once },
    ];
    const expected = [
      'ok',
      'TOKEN_REVOKED',
      'TOKEN_REVOKED',
      'TOKEN_ACCOUNT_DISABLED',
      'TOKEN_REVOKED',
      'ok',
      'TOKEN_INVALID',
      'ok',
      'DPOP_PROOF_INVALID',
    ];

    // Alone, one at a time (the users are mirrored by now, so the shared call below reads only Redis).
    const alone: Verdict[] = [];
    for (const query of queries) alone.push(...(await verdicts([state.check({ ...query, once: undefined })])));
    expect(alone).toEqual(expected.map((verdict) => (verdict === 'DPOP_PROOF_INVALID' ? 'ok' : verdict)));

    const before = scriptCalls;
    expect(await verdicts(queries.map((query) => state.check(query)))).toEqual(expected);
    expect(scriptCalls - before).toBe(1);
  });

  it('a burst larger than one call holds is split into several calls, every check answered', async () => {
    const state = new RevocationState(mongo.db, redis, systemClock, log, channel);
    const f = await fixtures(state);
    await state.check({ userId: f.active, jti: randomId(), tokenVersion: 0 });
    const count = MAX_CHECKS_PER_CALL * 2 + 22;
    const before = scriptCalls;
    const got = await verdicts(
      Array.from({ length: count }, (_, i) =>
        state.check({ userId: f.active, jti: i % 10 === 0 ? f.deniedJti : randomId(), tokenVersion: 0 }),
      ),
    );
    expect(got).toEqual(Array.from({ length: count }, (_, i) => (i % 10 === 0 ? 'TOKEN_REVOKED' : 'ok')));
    expect(scriptCalls - before).toBe(3);
  });

  it('checks asking while a call is out wait for it and go in the next call, which sees a denial made meanwhile', async () => {
    const writer = new RevocationState(mongo.db, redis, systemClock, log, channel);
    const f = await fixtures(writer);
    const held = await heldFirstCall('answers');
    try {
      const state = new RevocationState(mongo.db, held.client, systemClock, log, channel);
      const first = state.check({ userId: f.active, jti: randomId(), tokenVersion: 0 });
      await until(() => held.calls() === 1);
      // Revoked after the first call went out: a check asking now must see it.
      const jti = randomId();
      await writer.denyToken(jti, new Date(Date.now() + 3_600_000));
      const later = [
        state.check({ userId: f.active, jti, tokenVersion: 0 }),
        state.check({ userId: f.active, jti: randomId(), tokenVersion: 0 }),
      ];
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(held.calls()).toBe(1);
      held.release();
      expect(await verdicts([first, ...later])).toEqual(['ok', 'TOKEN_REVOKED', 'ok']);
      expect(held.calls()).toBe(2);
    } finally {
      held.client.disconnect();
    }
  });

  it('checks that waited for a call that fails fall back at once, without a call of their own', async () => {
    const writer = new RevocationState(mongo.db, redis, systemClock, log, channel);
    const f = await fixtures(writer);
    const held = await heldFirstCall('fails');
    try {
      const state = new RevocationState(mongo.db, held.client, systemClock, log, channel);
      const first = state.check({ userId: f.active, jti: randomId(), tokenVersion: 0 });
      await until(() => held.calls() === 1);
      const waiting = [
        state.check({ userId: f.active, jti: f.deniedJti, tokenVersion: 0 }),
        state.check({ userId: f.disabled, jti: randomId(), tokenVersion: 0 }),
        state.check({ userId: f.active, jti: randomId(), tokenVersion: 0, once: { key: `dpop:jti:${randomId()}`, ttlSeconds: 300 } }),
      ];
      held.release();
      // MongoDB answers for each; a once-key cannot be claimed without Redis, so it fails closed.
      expect(await verdicts([first, ...waiting])).toEqual(['ok', 'TOKEN_REVOKED', 'TOKEN_ACCOUNT_DISABLED', 'DEPENDENCY_UNAVAILABLE']);
      expect(held.calls()).toBe(1);
    } finally {
      held.client.disconnect();
    }
  });

  it('when the shared call fails, every check in it falls back on its own: MongoDB answers, a once-key fails closed', async () => {
    const writer = new RevocationState(mongo.db, redis, systemClock, log, channel);
    const f = await fixtures(writer);
    // A connected client whose script calls fail (as a dropped connection fails them): the shared
    // call fails for every check in it, while the breaker was still closed when they asked.
    const failing = redis.duplicate();
    failing.on('error', () => undefined);
    await redisReady(failing, 5000);
    let failedCalls = 0;
    const send = failing.sendCommand.bind(failing);
    failing.sendCommand = ((command, stream) => {
      if (command.name !== 'evalsha' && command.name !== 'eval') return send(command, stream);
      failedCalls++;
      command.reject(new Error('Connection is closed.'));
      return command.promise;
    }) as Redis['sendCommand'];
    try {
      const state = new RevocationState(mongo.db, failing, systemClock, log, channel);
      const got = await verdicts([
        state.check({ userId: f.active, jti: randomId(), tokenVersion: 0, sid: f.liveSession }),
        state.check({ userId: f.active, jti: f.deniedJti, tokenVersion: 0 }),
        state.check({ userId: f.active, jti: randomId(), tokenVersion: 0, sid: f.revokedSession }),
        state.check({ userId: f.disabled, jti: randomId(), tokenVersion: 0 }),
        state.check({ userId: f.bumped, jti: randomId(), tokenVersion: 0 }),
        state.check({ userId: f.active, jti: randomId(), tokenVersion: 0, once: { key: `dpop:jti:${randomId()}`, ttlSeconds: 300 } }),
      ]);
      expect(got).toEqual(['ok', 'TOKEN_REVOKED', 'TOKEN_REVOKED', 'TOKEN_ACCOUNT_DISABLED', 'TOKEN_REVOKED', 'DEPENDENCY_UNAVAILABLE']);
      expect(failedCalls).toBe(1);
    } finally {
      failing.disconnect();
    }
  });
});
