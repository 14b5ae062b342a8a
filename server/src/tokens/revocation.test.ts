// RevocationState against the real Redis and FerretDB, for what HTTP tests cannot time: a
// request that misses the user mirror reads MongoDB, and before it writes what it read back to
// Redis, an admin's revoke-all lands. The late write must not put the old tokenVersion back.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Collection, Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { systemClock } from '../context.js';
import { randomId } from '../crypto/index.js';
import { createLogger } from '../log/index.js';
import { COLLECTIONS, connectMongo, createRedis, redisReady } from '../store/index.js';
import { RevocationState } from './revocation.js';

let redis: Redis;
let mongo: { client: MongoClient; db: Db };
const prefix = `u${randomBytes(4).toString('hex')}:`;
const log = createLogger('silent');

beforeAll(async () => {
  const stack = inject('stack');
  redis = createRedis(stack.redisUrl, { timeoutMs: 1000, keyPrefix: prefix });
  redis.on('error', () => undefined);
  await redisReady(redis, 5000);
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
    const channel = `${prefix}invalidate`;
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
