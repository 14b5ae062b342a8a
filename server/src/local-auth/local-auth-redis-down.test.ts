// Fail closed: without Redis (backoff counters, pending 2FA step, TOTP replay cache) a password
// or a code opens no session; the answer is a fast 503, and nothing is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DedicatedRedis } from '../../test/dedicated-redis.js';
import { createTestApp, type TestApp } from '../../test/harness.js';
import { localUser, passwordStep, signInWithTotp } from '../../test/local-auth-support.js';

const PASSWORD = 'redis down password 1';
let redis: DedicatedRedis;
let t: TestApp;
beforeAll(async () => {
  redis = await DedicatedRedis.start();
  t = await createTestApp({ REDIS_URL: redis.url });
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

describe('password sign-in while Redis is down', () => {
  it('refuses with 503 and opens no session', async () => {
    await localUser(t, 'down@example.com', PASSWORD);
    await signInWithTotp(t, 'down@example.com', PASSWORD);
    const sessions = await t.db.collection('sessions').countDocuments();
    await redis.stop();
    const response = await passwordStep(t, { email: 'down@example.com', password: PASSWORD });
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(await t.db.collection('sessions').countDocuments()).toBe(sessions);
  });
});
