// Pairing under faults (docs/security-tests.md B4, B5): with the limiter's store (Redis) down, a spray of
// wrong codes still meets the in-memory budgets and gets 0 successes; DPoP proofs, whose replay
// check needs Redis, are refused rather than accepted unchecked; with MongoDB unreachable
// nothing is issued and the answer is a temporary error, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DedicatedRedis, waitUntil } from '../../test/dedicated-redis.js';
import { createListeningApp, DeviceClient, type ListeningApp } from '../../test/device-client.js';
import { collection } from '../../test/http-checks.js';
import { pairPost, signedInPerson } from '../../test/pairing-helpers.js';

describe('B4 pairing with Redis (the limiter store) down', () => {
  let redis: DedicatedRedis;
  let t: ListeningApp;

  beforeAll(async () => {
    redis = await DedicatedRedis.start();
    t = await createListeningApp({ REDIS_URL: redis.url, PAIRING_CODE_FAILURES_PER_HOUR: '4', DEVICE_POLL_INTERVAL_SECONDS: '1' });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('B4 a spray of wrong codes still hits the (in-memory) budget: 0 successes, then 429 even for the right code', async () => {
    const person = await signedInPerson(t);
    const device = await DeviceClient.create(t.origin);
    const started = await device.start(); // while Redis is up
    await redis.stop();
    await waitUntil('the breaker to notice', async () => (await t.http.get('/readyz')).status === 503, 5000);

    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const code = `ZZZZ-${'2345679A'[i]}ZZZ`;
      statuses.push((await pairPost(t, person, '/pair/decide', { user_code: code, decision: 'approve' })).status);
    }
    expect(statuses.slice(0, 4)).toEqual([400, 400, 400, 400]);
    expect(statuses.slice(4)).toEqual([429, 429, 429, 429]);
    const right = await pairPost(t, person, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
    expect(right.status).toBe(429);
    expect(await collection(t, 'pairing_claims').countDocuments()).toBe(0);

    // Proofs cannot be checked for replay without Redis: the token endpoint refuses, temporarily.
    const refused = await device.poll(started.device_code).then(
      () => null,
      (error: { cause?: unknown }) => error.cause as Response,
    );
    expect(refused?.status).toBe(503);
    expect(await refused?.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expect(await collection(t, 'sessions').countDocuments({ kind: 'extension' })).toBe(0);
    await redis.restart();
  }, 30_000);
});

describe('B5 pairing with MongoDB unreachable', () => {
  let t: ListeningApp;
  beforeAll(async () => {
    t = await createListeningApp({ DEVICE_POLL_INTERVAL_SECONDS: '1' });
  });
  afterAll(() => t?.close());

  it('B5 starting a pairing answers temporarily_unavailable and stores nothing; a later start works', async () => {
    const device = await DeviceClient.create(t.origin);
    // Point the pairing store at a closed client: every operation fails as if MongoDB were down.
    const { MongoClient } = await import('mongodb');
    const dead = new MongoClient('mongodb://127.0.0.1:9/none', { serverSelectionTimeoutMS: 200 });
    const pairings = t.services.pairing as unknown as { store: { pairings: unknown } };
    const real = pairings.store.pairings;
    pairings.store.pairings = dead.db('none').collection('pairings');
    try {
      const response = await device.startRaw();
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      pairings.store.pairings = real;
      await dead.close();
    }
    expect(await collection(t, 'pairings').countDocuments()).toBe(0);
    expect((await device.start()).user_code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  });
});
