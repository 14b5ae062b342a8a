// A person's own recent security activity (issue #6): the API (scope activity:read) and the
// account page show what happened to and by them — never other people's entries — with IPs
// readable only where they were sealed under their own key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createUser, issueApiToken, startBrowserSession, type TestApp } from '../../test/harness.js';
import { ALICE, BOB, signIn } from '../../test/sign-in.js';
import type { User } from '../users/index.js';

describe('recent security activity', () => {
  let t: TestApp;
  let alice: User;
  let aliceCookie: string;

  beforeAll(async () => {
    t = await createTestApp();
    aliceCookie = (await signIn(t, ALICE)).sessionCookie;
    await signIn(t, BOB);
    alice = (await t.services.users.findByEmail(ALICE.login)) as User;
  });
  afterAll(() => t.close());

  it('lists the person’s own entries, newest first, with plain-words descriptions and their own IPs', async () => {
    const { token } = await issueApiToken(t, alice, ['activity:read']);
    const response = await t.http.get('/api/v1/me/activity?limit=10').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
    const actions = response.body.activity.map((entry: { action: string }) => entry.action);
    expect(actions).toContain('login.succeeded');
    const signInEntry = response.body.activity.find((entry: { action: string }) => entry.action === 'login.succeeded');
    expect(signInEntry.description).toBe('Signed in');
    expect(signInEntry.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
    const times = response.body.activity.map((entry: { time: string }) => entry.time);
    expect([...times].sort().reverse()).toEqual(times);
    // Bob signed in too; none of his entries is in Alice's list.
    const bob = (await t.services.users.findByEmail(BOB.login)) as User;
    const raw = await t.db
      .collection('audit')
      .find({ $or: [{ target: `user:${bob._id}` }, { actor: `user:${bob._id}` }] })
      .toArray();
    expect(raw.length).toBeGreaterThan(0);
    expect(JSON.stringify(response.body)).not.toContain(bob._id);
  });

  it('needs the activity:read scope, and the account page shows the same list', async () => {
    const { token } = await issueApiToken(t, alice, ['sessions:read']);
    const refused = await t.http.get('/api/v1/me/activity').set('Authorization', `Bearer ${token}`);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('INSUFFICIENT_SCOPE');
    const page = await t.http.get('/account').set('Cookie', aliceCookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Recent security activity');
    expect(page.text).toContain('data-action-name="login.succeeded"');
  });

  it('refuses bad limits with a stable code', async () => {
    const { token } = await issueApiToken(t, alice, ['activity:read']);
    for (const limit of ['0', '101', 'abc', '{"$gt":0}']) {
      const response = await t.http.get(`/api/v1/me/activity?limit=${encodeURIComponent(limit)}`).set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }
  });

  it('says from the reader’s point of view what happened to what, and who did it', async () => {
    const admin = await createUser(t, { roles: ['admin', 'user'], name: 'Ada Admin' });
    const person = await createUser(t, { name: 'Bo Person' });
    const meta = { requestId: 'test', ip: '127.0.0.1', userAgent: 'vitest' };
    await t.services.admin.changeStatus({ kind: 'user', user: admin }, person._id, 'disable', meta);
    await t.services.admin.changeStatus({ kind: 'user', user: admin }, person._id, 'enable', meta);
    await t.services.audit.record({ action: 'pairing.confirmed', outcome: 'failure', actor: `user:${person._id}`, details: {} }, meta);
    await t.services.audit.record({ action: 'token.exchange_failed', outcome: 'refused', actor: `user:${person._id}`, details: {} }, meta);
    const adminFeed = (await t.services.audit.recentFor(admin, 10)).map((entry) => entry.description);
    expect(adminFeed).toEqual(expect.arrayContaining(['You disabled Bo Person’s account', 'You enabled Bo Person’s account']));
    const personFeed = (await t.services.audit.recentFor(person, 10)).map((entry) => entry.description);
    expect(personFeed).toEqual(
      expect.arrayContaining([
        'Account disabled by Ada Admin',
        'Account enabled by Ada Admin',
        'Device pairing approved — failed',
        'A paired device was refused',
      ]),
    );
  });

  it('names the session that ended, not only the device that ended it', async () => {
    const { sessionId } = await startBrowserSession(t, alice);
    const device = (await t.services.sessions.findById(sessionId))?.device ?? '';
    const { token } = await issueApiToken(t, alice, ['sessions:revoke', 'activity:read']);
    const ended = await t.http.delete(`/api/v1/me/sessions/${sessionId}`).set('Authorization', `Bearer ${token}`);
    expect(ended.status).toBe(204);
    const feed = await t.http.get('/api/v1/me/activity').set('Authorization', `Bearer ${token}`);
    const entry = feed.body.activity.find((item: { action: string }) => item.action === 'session.revoked');
    expect(entry.description).toBe(`Session ended: ${device}`);
  });
});
