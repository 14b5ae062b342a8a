// A write that reaches the database but whose answer is lost (the connection drops right after
// the command was sent): what a failover or a network cut looks like to the driver, the case
// MongoDB's retryable writes exist for. Every such failure must answer 503 with Retry-After,
// never a 500, and leave nothing half-done that a retry could use twice (docs/deployment.md,
// "MongoDB in production"). FerretDB has no retryable writes, so the driver cannot hide the
// error here: the application's own handling is what is tested.
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestApp, createUser, issueApiToken, type TestApp } from '../../test/harness.js';
import { UniqueInserts } from './unique-inserts.js';

/**
 * A TCP proxy to FerretDB that, when armed, forwards the next command matching a pattern (on the
 * wire: the command name, its 4-byte string length, the collection) and then cuts that client
 * connection before the answer can come back.
 */
class CuttingProxy {
  private armed: RegExp | null = null;
  cuts = 0;
  private server: Server | null = null;
  port = 0;

  async start(upstreamPort: number): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(upstreamPort, '127.0.0.1');
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      upstream.pipe(client);
      client.on('data', (chunk: Buffer) => {
        upstream.write(chunk);
        if (this.armed?.test(chunk.toString('latin1'))) {
          this.armed = null;
          this.cuts++;
          client.destroy();
          upstream.unpipe(client);
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Cuts after the next `command` on `collection` (e.g. update on sessions). */
  cutNext(command: 'insert' | 'update' | 'findAndModify', collection: string): void {
    this.armed = new RegExp(`${command}\\0[\\s\\S]{4}${collection}\\0`);
  }

  /** Cuts after the next command whose bytes contain `text` (say, one document's _id). */
  cutNextContaining(text: string): void {
    this.armed = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }

  close(): void {
    this.server?.close();
  }
}

const proxy = new CuttingProxy();
let t: TestApp;
beforeAll(async () => {
  await proxy.start(Number(new URL(inject('stack').mongoUrl).port));
  t = await createTestApp({ MONGODB_URL: `mongodb://127.0.0.1:${proxy.port}/faults_${Date.now()}` });
});
afterAll(async () => {
  await t?.close();
  proxy.close();
});

const me = (token: string) => t.http.get('/api/v1/me').set('Authorization', `Bearer ${token}`);

describe('B8 a write whose answer is lost', () => {
  it('revoking a session: 503 with Retry-After; the retry finishes the job; the revoked token is refused', async () => {
    const user = await createUser(t);
    const caller = await issueApiToken(t, user);
    const victim = await issueApiToken(t, user);
    expect((await me(caller.token)).status).toBe(200); // its lastSeen is written now, not during the cut
    expect((await me(victim.token)).status).toBe(200);
    proxy.cutNext('update', 'sessions');
    const cut = await t.http.delete(`/api/v1/me/sessions/${victim.sessionId}`).set('Authorization', `Bearer ${caller.token}`);
    expect(proxy.cuts).toBe(1);
    expect(cut.status).toBe(503);
    expect(cut.body.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(cut.headers['retry-after']).toBe('1');
    // The update reached the database; the client retries as told.
    const retry = await t.http.delete(`/api/v1/me/sessions/${victim.sessionId}`).set('Authorization', `Bearer ${caller.token}`);
    expect([204, 404]).toContain(retry.status);
    expect((await me(victim.token)).status).toBe(401);
    expect((await me(caller.token)).status).toBe(200);
  });

  it('creating an API token: 503, and the record whose answer was lost never yields a usable token', async () => {
    const user = await createUser(t);
    proxy.cutNext('insert', 'sessions');
    await expect(issueApiToken(t, user)).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', status: 503 });
    expect(proxy.cuts).toBe(2);
    // The token of the lost answer was never handed out; a retry makes a new one that works.
    const again = await issueApiToken(t, user);
    expect((await me(again.token)).status).toBe(200);
  });

  it('disabling an account: 503, and every token of the account is refused all the same', async () => {
    const user = await createUser(t);
    const token = await issueApiToken(t, user);
    expect((await me(token.token)).status).toBe(200);
    proxy.cutNext('findAndModify', 'users');
    await expect(t.services.sessions.stopAccount(user._id, 'admin_disable', { to: 'disabled' })).rejects.toMatchObject({ status: 503 });
    expect(proxy.cuts).toBe(3);
    expect((await me(token.token)).status).toBe(401);
  });

  it('a group of inserts (the refresh rotation) whose answer is lost: each of its callers gets 503, none is told it won', async () => {
    const inserts = new UniqueInserts(t.db.collection<{ _id: string; parent: string }>('fault_group_inserts'));
    const run = randomUUID();
    const doc = (i: number) => ({ _id: `${run}-${i}`, parent: `${run}-parent-${i}` });
    // The first goes alone; the four that arrive while it is with the store go as one group, cut.
    proxy.cutNextContaining(`${run}-3`);
    const lone = inserts.insert(doc(0));
    const group = [1, 2, 3, 4].map((i) => inserts.insert(doc(i)));
    expect(await lone).toBe(true);
    const outcomes = await Promise.allSettled(group);
    expect(proxy.cuts).toBe(4);
    for (const outcome of outcomes)
      expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'DEPENDENCY_UNAVAILABLE', status: 503 } });
    // The next group goes on a fresh connection and is answered.
    expect(await inserts.insert(doc(5))).toBe(true);
  });
});
