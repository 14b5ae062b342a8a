import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DedicatedRedis, waitUntil } from '../../test/dedicated-redis.js';
import { createTestApp, createUser, issueApiToken, startBrowserSession, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { expectProblem } from '../../test/http-checks.js';
import type { User } from '../users/index.js';

/** A TCP proxy the test can cut (every connection dropped, new ones refused) and restore. */
class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private open = true;
  private server!: Server;
  port = 0;
  private constructor(private readonly targetPort: number) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    proxy.server = createServer((client) => proxy.accept(client)).listen(0, '127.0.0.1');
    await once(proxy.server, 'listening');
    proxy.port = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  private accept(client: Socket): void {
    if (!this.open) {
      client.destroy();
      return;
    }
    const upstream = connect(this.targetPort, '127.0.0.1');
    for (const [socket, peer] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(socket);
      socket.on('error', () => peer.destroy());
      socket.on('close', () => {
        this.sockets.delete(socket);
        peer.destroy();
      });
      socket.pipe(peer);
    }
  }

  cut(): void {
    this.open = false;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.open = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let redis: DedicatedRedis;
let redisProxy: TcpProxy;
let mongoProxy: TcpProxy;
let t: TestApp;

beforeAll(async () => {
  redis = await DedicatedRedis.start();
  redisProxy = await TcpProxy.start(redis.port);
  mongoProxy = await TcpProxy.start(Number(new URL(inject('stack').mongoUrl).port));
  t = await createTestApp({
    REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
    MONGODB_URL: `mongodb://127.0.0.1:${mongoProxy.port}/t_revocation_${Date.now().toString(36)}`,
    MONGODB_TIMEOUT_MS: '500',
  });
});
afterAll(async () => {
  redisProxy?.restore();
  mongoProxy?.restore();
  await t?.close();
  await redisProxy?.close();
  await mongoProxy?.close();
  await redis?.stop();
});

/** A credential and how it must be judged. */
interface Case {
  what: string;
  send: () => ReturnType<TestApp['http']['get']>;
  expected: 200 | 'TOKEN_REVOKED' | 'TOKEN_ACCOUNT_DISABLED';
}
const cases: Case[] = [];
const cookieAt = (cookie: string) => () => t.http.get('/api/v1/me').set('Cookie', cookie);
const bearerAt = (token: string) => () => t.http.get('/api/v1/me/sessions').set('Authorization', `Bearer ${token}`);
const csrfHeaders = (session: { cookie: string; sessionId: string }) => ({
  Cookie: session.cookie,
  Origin: TEST_ORIGIN,
  'X-CSRF-Token': t.services.csrf.forSession(session.sessionId),
});

/** Every case answers as expected: revoked ones 401 with their code, good ones 200. */
async function expectJudgedCorrectly(): Promise<void> {
  for (const { what, send, expected } of cases) {
    const response = await send();
    if (expected === 200) expect(response.status, `${what}: ${response.text}`).toBe(200);
    else expectProblem(response, 401, expected);
  }
}

const rebuilds = () => t.logLines.filter((line) => line.includes('"revocation.rebuilt"')).length;

describe('revocation survives Redis losing its data', () => {
  let good: User;

  it('control: revoked credentials of every kind are refused, good ones accepted', async () => {
    good = await createUser(t, { name: 'Good' });
    const goodSession = await startBrowserSession(t, good);
    const goodApi = await issueApiToken(t, good);
    cases.push({ what: 'a live session', send: cookieAt(goodSession.cookie), expected: 200 });
    cases.push({ what: 'a live API token', send: bearerAt(goodApi.token), expected: 200 });

    // A session revoked by DELETE from another session of its owner.
    const owner = await createUser(t, { name: 'Owner' });
    const revokedSession = await startBrowserSession(t, owner);
    const ownerMain = await startBrowserSession(t, owner);
    expect((await t.http.delete(`/api/v1/me/sessions/${revokedSession.sessionId}`).set(csrfHeaders(ownerMain))).status).toBe(204);
    cases.push({ what: 'a session revoked by DELETE', send: cookieAt(revokedSession.cookie), expected: 'TOKEN_REVOKED' });
    cases.push({ what: 'the owner’s other session', send: cookieAt(ownerMain.cookie), expected: 200 });

    // A cookie after logout (session revoked and jti denylisted).
    const loggedOut = await startBrowserSession(t, owner);
    expect((await t.http.post('/api/v1/login/logout').set(csrfHeaders(loggedOut))).status).toBe(204);
    cases.push({ what: 'a cookie after logout', send: cookieAt(loggedOut.cookie), expected: 'TOKEN_REVOKED' });

    // A token whose jti alone is denylisted; its session lives on.
    const deniedSession = await startBrowserSession(t, owner);
    const denied = await t.services.issuer.mint('session', {
      sub: owner._id,
      tokenVersion: 0,
      sid: deniedSession.sessionId,
      ttlSeconds: 600,
    });
    await t.services.revocation.denyToken(denied.claims.jti, new Date(denied.claims.exp * 1000));
    cases.push({ what: 'a denylisted jti', send: cookieAt(`__Host-gatehouse=${denied.token}`), expected: 'TOKEN_REVOKED' });
    cases.push({ what: 'a sibling of the denylisted jti', send: cookieAt(deniedSession.cookie), expected: 200 });

    // An API token revoked through RFC 7009.
    const revokedApi = await issueApiToken(t, owner);
    expect((await t.http.post('/oauth/revoke').type('form').send({ token: revokedApi.token })).status).toBe(200);
    cases.push({ what: 'an API token revoked by /oauth/revoke', send: bearerAt(revokedApi.token), expected: 'TOKEN_REVOKED' });

    // Every token of a user after an admin revoke-all (tokenVersion bump).
    const everything = await createUser(t, { name: 'Everything' });
    const oldSession = await startBrowserSession(t, everything);
    const oldApi = await issueApiToken(t, everything);
    await t.services.sessions.revokeAll(everything._id, 'admin_revoked_all');
    cases.push({ what: 'a session after revoke-all', send: cookieAt(oldSession.cookie), expected: 'TOKEN_REVOKED' });
    cases.push({ what: 'an API token after revoke-all', send: bearerAt(oldApi.token), expected: 'TOKEN_REVOKED' });
    const staleTv = await startBrowserSession(t, everything);
    const stale = await t.services.issuer.mint('session', {
      sub: everything._id,
      tokenVersion: 0,
      sid: staleTv.sessionId,
      ttlSeconds: 600,
    });
    cases.push({ what: 'a stale tv on a live session', send: cookieAt(`__Host-gatehouse=${stale.token}`), expected: 'TOKEN_REVOKED' });
    cases.push({ what: 'the new session after revoke-all', send: cookieAt(staleTv.cookie), expected: 200 });

    // A banned user.
    const banned = await createUser(t, { name: 'Banned' });
    const bannedSession = await startBrowserSession(t, banned);
    await t.db.collection<User>('users').updateOne({ _id: banned._id }, { $set: { status: 'banned' } });
    await t.services.revocation.userChanged(banned._id, { tokenVersion: 0, status: 'banned' });
    cases.push({ what: 'a banned user’s session', send: cookieAt(bannedSession.cookie), expected: 'TOKEN_ACCOUNT_DISABLED' });

    await expectJudgedCorrectly();
  });

  it('J18 / B3 after FLUSHALL: still refused (rebuilt from MongoDB), good ones still accepted', async () => {
    const direct = redis.client();
    try {
      expect(await direct.exists(`${t.config.REDIS_KEY_PREFIX}epoch`)).toBe(1);
      await direct.flushall();
      expect(await direct.dbsize()).toBe(0);
    } finally {
      direct.disconnect();
    }
    const before = rebuilds();
    await expectJudgedCorrectly();
    expect(rebuilds()).toBe(before + 1);
    await expectJudgedCorrectly(); // and again, now from the rebuilt mirror
  });

  it('J18 / B3 after a Redis restart that lost every key: still refused, good ones still accepted', async () => {
    await redis.stop();
    await redis.restart();
    await waitUntil('the app reconnected to Redis', () => t.redis.status === 'ready', 15_000);
    const direct = redis.client();
    try {
      expect(await direct.dbsize()).toBe(0);
    } finally {
      direct.disconnect();
    }
    const before = rebuilds();
    await expectJudgedCorrectly();
    expect(rebuilds()).toBe(before + 1);
  });
});

describe('Redis unreachable', () => {
  it('the check falls back to MongoDB: revoked refused, good accepted', async () => {
    redisProxy.cut();
    try {
      await waitUntil('the app noticed Redis is gone', () => t.redis.status !== 'ready', 5_000);
      await expectJudgedCorrectly();
    } finally {
      redisProxy.restore();
    }
    await waitUntil('the app reconnected to Redis', () => t.redis.status === 'ready', 15_000);
    await expectJudgedCorrectly();
  });

  it('a revocation made while Redis is unreachable is refused at once, and still after Redis comes back with its old data', async () => {
    const user = await createUser(t, { name: 'Partitioned' });
    const main = await startBrowserSession(t, user);
    const victim = await startBrowserSession(t, user);
    const api = await issueApiToken(t, user);
    const everything = await createUser(t, { name: 'Partitioned everything' });
    const everythingSession = await startBrowserSession(t, everything);
    for (const send of [cookieAt(victim.cookie), bearerAt(api.token), cookieAt(everythingSession.cookie)])
      expect((await send()).status).toBe(200);

    redisProxy.cut();
    try {
      await waitUntil('the app noticed Redis is gone', () => t.redis.status !== 'ready', 5_000);
      // MongoDB takes the change; the Redis mirror can't, so the call says 503 (safe to retry).
      const deleted = await t.http.delete(`/api/v1/me/sessions/${victim.sessionId}`).set(csrfHeaders(main));
      expect(deleted.status, deleted.text).toBe(503);
      expect(deleted.body.code).toBe('DEPENDENCY_UNAVAILABLE');
      expect((await t.services.sessions.findById(victim.sessionId))?.revokedAt).toBeInstanceOf(Date);
      const revoked = await t.http.post('/oauth/revoke').type('form').send({ token: api.token });
      expect(revoked.status).toBe(503);
      expect(revoked.body).toMatchObject({ error: 'temporarily_unavailable' });
      await expect(t.services.sessions.revokeAll(everything._id, 'admin_revoked_all')).rejects.toMatchObject({
        code: 'DEPENDENCY_UNAVAILABLE',
      });

      expectProblem(await cookieAt(victim.cookie)(), 401, 'TOKEN_REVOKED');
      expectProblem(await bearerAt(api.token)(), 401, 'TOKEN_REVOKED');
      expectProblem(await cookieAt(everythingSession.cookie)(), 401, 'TOKEN_REVOKED');
    } finally {
      redisProxy.restore();
    }
    // Redis kept its data (epoch included) but never heard of these revocations.
    await waitUntil('the app reconnected to Redis', () => t.redis.status === 'ready', 15_000);
    expectProblem(await cookieAt(victim.cookie)(), 401, 'TOKEN_REVOKED');
    expectProblem(await bearerAt(api.token)(), 401, 'TOKEN_REVOKED');
    expectProblem(await cookieAt(everythingSession.cookie)(), 401, 'TOKEN_REVOKED');
    expect((await cookieAt(main.cookie)()).status).toBe(200);
    await expectJudgedCorrectly();
  });
});

describe('Redis and MongoDB both unreachable', () => {
  it('every credential check answers 503 DEPENDENCY_UNAVAILABLE, none is accepted, and all recover', async () => {
    redisProxy.cut();
    mongoProxy.cut();
    try {
      await waitUntil('the app noticed Redis is gone', () => t.redis.status !== 'ready', 5_000);
      const started = Date.now();
      for (const { what, send } of cases) {
        const response = await send();
        expect(response.status, `${what}: ${response.text}`).toBe(503);
        expect(response.body.code).toBe('DEPENDENCY_UNAVAILABLE');
      }
      // Bounded by the store timeouts, not hung: generous for a 2-core machine.
      expect(Date.now() - started).toBeLessThan(cases.length * 5_000);
    } finally {
      mongoProxy.restore();
      redisProxy.restore();
    }
    await waitUntil('the app reconnected to Redis', () => t.redis.status === 'ready', 15_000);
    await waitUntil('good credentials accepted again', async () => (await cases[0]?.send())?.status === 200, 20_000);
    await expectJudgedCorrectly();
  });
});
