// Redis beyond one server (docs/redis.md), against real servers: a 3-master Redis Cluster with
// replicas and a master + replica watched by three Sentinels, all from Debian's redis-server.
// H1: every multi-key command lands in one slot, and a master failover loses no revocation.
// H2: a Sentinel failover under load answers only 503s (with Retry-After) while it lasts, and
// never accepts a revoked token.
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../test/dedicated-redis.js';
import { createTestApp, createUser, issueApiToken, type TestApp } from '../../test/harness.js';
import { TestCluster, TestSentinels } from '../../test/redis-topologies.js';

const me = (t: TestApp, token: string) => t.http.get('/api/v1/me').set('Authorization', `Bearer ${token}`);

/** A good token and a revoked one of the same person, revoked through the real service. */
async function tokens(t: TestApp) {
  const user = await createUser(t);
  const good = await issueApiToken(t, user);
  const revoked = await issueApiToken(t, user);
  expect(await t.services.sessions.revoke(revoked.sessionId, user._id, 'test')).toBe(true);
  return { user, good, revoked };
}

describe('H1 Redis Cluster', () => {
  let cluster: TestCluster;
  let t: TestApp;

  beforeAll(async () => {
    cluster = await TestCluster.start();
    t = await createTestApp({ REDIS_CLUSTER_NODES: cluster.seeds, REDIS_URL: 'redis://127.0.0.1' });
  }, 90_000);
  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
  });

  it('H1 sign-in state, revocation and the rate limiter work, every key of the deployment in one slot', async () => {
    // The user cache subscribes to the invalidation channel through the Cluster too.
    await waitUntil('the user cache subscribed', () => t.services.userCache.trusted, 10_000);
    const { good, revoked } = await tokens(t);
    expect((await me(t, good.token)).status).toBe(200);
    const refused = await me(t, revoked.token);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('TOKEN_REVOKED');
    // A sign-in start stores its state in Redis and answers with the IdP redirect.
    expect((await t.http.get('/auth/dev/login')).status).toBe(302);

    const direct = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0] ?? 0 }]);
    direct.on('error', () => undefined);
    await new Promise((resolve) => direct.once('ready', resolve));
    try {
      const keys: string[] = [];
      for (const node of direct.nodes('master')) keys.push(...(await node.keys('*')));
      const ours = keys.filter((key) => key.includes(t.config.REDIS_KEY_PREFIX));
      expect(ours.length).toBeGreaterThan(3);
      // All carry the deployment's hash tag, hence one slot: pipelines and scripts never cross slots.
      expect(ours.every((key) => key.startsWith(`{${t.config.REDIS_KEY_PREFIX}}`))).toBe(true);
      const slots = new Set(await Promise.all(ours.map((key) => direct.call('CLUSTER', 'KEYSLOT', key))));
      expect(slots.size).toBe(1);
    } finally {
      direct.disconnect();
    }
  });

  it('H1 the master holding the slot dies: after the failover revocations still hold, nothing was lost, new ones work', async () => {
    const { user, good, revoked } = await tokens(t);
    const tag = `{${t.config.REDIS_KEY_PREFIX}}`;
    const master = await cluster.masterOf(tag);
    cluster.kill(master);
    await waitUntil('a replica promoted for the slot', async () => (await cluster.masterOf(tag).catch(() => master)) !== master, 30_000);
    // The dead master's replica is the new master and has no replica of its own now.
    await cluster.waitHealthy({ replicas: false });

    // The revocation reached the replica before it was acknowledged (WAIT): it is still there.
    const promoted = new Cluster([{ host: '127.0.0.1', port: await cluster.masterOf(tag) }]);
    promoted.on('error', () => undefined);
    await new Promise((resolve) => promoted.once('ready', resolve));
    try {
      expect(await promoted.exists(`${tag}rs:${revoked.sessionId}`)).toBe(1);
    } finally {
      promoted.disconnect();
    }

    await waitUntil('the good token accepted again', async () => (await me(t, good.token)).status === 200, 20_000);
    expect((await me(t, revoked.token)).status).toBe(401);
    // The promoted master has no replica left: a revocation now waits for none.
    const later = await issueApiToken(t, user);
    expect(await t.services.sessions.revoke(later.sessionId, user._id, 'test')).toBe(true);
    expect((await me(t, later.token)).status).toBe(401);
  }, 90_000);
});

describe('H2 Redis Sentinel', () => {
  let sentinels: TestSentinels;
  let t: TestApp;

  beforeAll(async () => {
    sentinels = await TestSentinels.start();
    t = await createTestApp({
      REDIS_SENTINELS: sentinels.sentinels,
      REDIS_SENTINEL_MASTER: TestSentinels.MASTER,
      REDIS_URL: 'redis://127.0.0.1',
    });
  }, 90_000);
  afterAll(async () => {
    await t?.close();
    await sentinels?.stop();
  });

  it('H2 the master dies under load: only 200s and 503s with Retry-After for the good token, never a 200 for the revoked one', async () => {
    const { user, good, revoked } = await tokens(t);
    expect((await me(t, good.token)).status).toBe(200);
    const oldMaster = await sentinels.currentMaster();

    const seen = { good: new Map<number, number>(), revoked: new Map<number, number>(), missingRetryAfter: 0 };
    let running = true;
    const load = (async () => {
      while (running) {
        const [a, b] = await Promise.all([me(t, good.token), me(t, revoked.token)]);
        seen.good.set(a.status, (seen.good.get(a.status) ?? 0) + 1);
        seen.revoked.set(b.status, (seen.revoked.get(b.status) ?? 0) + 1);
        for (const response of [a, b]) if (response.status === 503 && !response.headers['retry-after']) seen.missingRetryAfter++;
      }
    })();
    try {
      sentinels.kill(oldMaster);
      await waitUntil('the Sentinels promoted the replica', async () => (await sentinels.currentMaster()) !== oldMaster, 30_000);
      await waitUntil('the app connected to the new master', () => t.redis.status === 'ready', 20_000);
      await waitUntil('the good token accepted through the new master', async () => (await me(t, good.token)).status === 200, 20_000);
    } finally {
      running = false;
      await load;
    }
    expect([...seen.good.keys()].every((status) => status === 200 || status === 503)).toBe(true);
    expect([...seen.revoked.keys()].every((status) => status === 401 || status === 503)).toBe(true);
    expect(seen.revoked.get(200) ?? 0).toBe(0);
    expect(seen.missingRetryAfter).toBe(0);

    // After the switch: revoked stays revoked, and a new revocation holds.
    expect((await me(t, revoked.token)).status).toBe(401);
    const later = await issueApiToken(t, user);
    expect(await t.services.sessions.revoke(later.sessionId, user._id, 'test')).toBe(true);
    expect((await me(t, later.token)).status).toBe(401);
  }, 90_000);
});
