// Central account control (issue #6, first part): an admin stops an account once and every
// session and token of it stops working on the next request, on every instance; bans follow
// the person to other identities; the rules about who may act on whom hold; the CLI does the
// same, audited as `cli`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  createUser,
  issueApiToken,
  runGatehouse,
  startBrowserSession,
  TEST_ORIGIN,
  type TestApp,
} from '../../test/harness.js';
import { authorizeAtIdp, BOB, callback, signIn, startLogin } from '../../test/sign-in.js';
import type { User } from '../users/index.js';

describe('admin: disable, enable, ban and unban', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: User;
  let owner: User;
  let adminCookie: string;

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp({}, { sharedWith: a });
    admin = await createUser(a, { name: 'Ada Admin', roles: ['admin', 'user'] });
    owner = await createUser(a, { name: 'Olga Owner', roles: ['admin', 'owner', 'user'] });
    adminCookie = (await startBrowserSession(a, admin)).cookie;
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  /** An admin action through instance A's cookie API, as the console will call it. */
  async function act(change: string, userId: string, cookie = adminCookie, csrfSessionOf = admin) {
    const csrf = a.services.csrf.forSession(await sessionIdOf(cookie, csrfSessionOf));
    return a.http
      .post(`/api/v1/admin/users/${userId}/${change}`)
      .set('Cookie', cookie)
      .set('Origin', TEST_ORIGIN)
      .set('X-CSRF-Token', csrf);
  }
  async function sessionIdOf(cookie: string, user: User): Promise<string> {
    const { principal } = await a.services.sessions.authenticate(cookie.slice('__Host-gatehouse='.length));
    expect(principal.userId).toBe(user._id);
    return principal.sessionId ?? '';
  }

  it('disable and ban made through instance A are refused on instance B at the very next request, for session cookies and API tokens, 100 times', async () => {
    for (let round = 0; round < 100; round++) {
      const person = await createUser(a, { name: `Person ${round}` });
      const cookie = (await startBrowserSession(a, person)).cookie;
      const { token } = await issueApiToken(a, person);
      expect((await b.http.get('/api/v1/me').set('Cookie', cookie)).status).toBe(200);
      expect((await b.http.get('/api/v1/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);

      const change = round % 2 === 0 ? 'disable' : 'ban';
      expect((await act(change, person._id)).status).toBe(200);

      const viaCookie = await b.http.get('/api/v1/me').set('Cookie', cookie);
      const viaToken = await b.http.get('/api/v1/me').set('Authorization', `Bearer ${token}`);
      expect(viaCookie.status).toBe(401);
      expect(viaToken.status).toBe(401);
      expect(viaToken.body.code).toBe('TOKEN_ACCOUNT_DISABLED');
    }
  });

  it('disable revokes every session, enable lets the person in again with fresh credentials only', async () => {
    const person = await createUser(a);
    const old = await startBrowserSession(a, person);
    expect((await act('disable', person._id)).body).toEqual({ id: person._id, status: 'disabled' });
    expect(await a.db.collection('sessions').countDocuments({ userId: person._id, revokedAt: null })).toBe(0);
    expect((await act('enable', person._id)).body).toEqual({ id: person._id, status: 'active' });
    expect((await b.http.get('/api/v1/me').set('Cookie', old.cookie)).status).toBe(401);
    const fresh = await startBrowserSession(a, person);
    expect((await b.http.get('/api/v1/me').set('Cookie', fresh.cookie)).status).toBe(200);
    const actions = (
      await a.db
        .collection('audit')
        .find({ target: `user:${person._id}` })
        .toArray()
    ).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.disabled', 'user.enabled']));
  });

  it('a ban follows the person: a new identity with the same verified email is refused at sign-in', async () => {
    await signIn(a, BOB);
    const bob = await a.services.users.findByEmail('bob@example.com');
    if (!bob) throw new Error('bob was not created');
    expect((await act('ban', bob._id)).status).toBe(200);
    // Same person, another identity: drop the identity so the next sign-in would create a new account.
    await a.db.collection('identities').deleteMany({ userId: bob._id });
    const started = await startLogin(a);
    const back = await authorizeAtIdp(started, BOB);
    const response = await callback(a, back, started.loginCookie).set('Accept', 'application/json');
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('ACCOUNT_BANNED');
    expect(await a.db.collection('users').countDocuments({ name: 'Bob User' })).toBe(1);

    expect((await act('unban', bob._id)).body.status).toBe('active');
    expect(await a.db.collection('bans').countDocuments({ userId: bob._id })).toBe(0);
  });

  it('refuses what the rules forbid: an admin on an owner, on another admin, on themself; a plain user at all; wrong transitions', async () => {
    const otherAdmin = await createUser(a, { roles: ['admin', 'user'] });
    const plain = await createUser(a);
    expect((await act('disable', owner._id)).status).toBe(403);
    expect((await act('disable', otherAdmin._id)).status).toBe(403);
    expect((await act('disable', admin._id)).status).toBe(403);
    const plainCookie = (await startBrowserSession(a, plain)).cookie;
    const target = await createUser(a);
    expect((await act('disable', target._id, plainCookie, plain)).status).toBe(403);
    expect((await act('enable', target._id)).status).toBe(409);
    expect((await act('unban', target._id)).body.code).toBe('USER_STATUS_CONFLICT');
    expect((await act('disable', 'no-such-user-1')).status).toBe(404);
    // An owner may act on an admin.
    const ownerCookie = (await startBrowserSession(a, owner)).cookie;
    expect((await act('disable', otherAdmin._id, ownerCookie, owner)).status).toBe(200);
  });

  it('needs the origin and CSRF checks for cookie calls, and the admin:users scope for API tokens', async () => {
    const target = await createUser(a);
    const noCsrf = await a.http.post(`/api/v1/admin/users/${target._id}/disable`).set('Cookie', adminCookie).set('Origin', TEST_ORIGIN);
    expect(noCsrf.body.code).toBe('CSRF_TOKEN_INVALID');
    const { token: narrow } = await issueApiToken(a, admin, ['profile:read']);
    expect((await a.http.post(`/api/v1/admin/users/${target._id}/disable`).set('Authorization', `Bearer ${narrow}`)).body.code).toBe(
      'INSUFFICIENT_SCOPE',
    );
    const { token: wide } = await issueApiToken(a, admin, ['admin:users']);
    expect((await a.http.post(`/api/v1/admin/users/${target._id}/disable`).set('Authorization', `Bearer ${wide}`)).status).toBe(200);
    expect((await a.http.get(`/api/v1/admin/users/${target._id}/disable`).set('Authorization', `Bearer ${wide}`)).status).toBe(405);
  });

  it('searches users by any part of the email or name, status and role, with cursor pages; shows one user without IPs', async () => {
    const { token } = await issueApiToken(a, admin, ['admin:users']);
    const get = (path: string) => a.http.get(path).set('Authorization', `Bearer ${token}`);
    const admins = await get('/api/v1/admin/users?role=owner');
    expect(admins.body.users.map((user: { id: string }) => user.id)).toEqual([owner._id]);
    const byName = await get('/api/v1/admin/users?q=olga');
    expect(byName.body.users).toHaveLength(1);
    // Any part of the name or email: a surname or a domain finds people too; regex characters are literal.
    const surname = await createUser(a, { name: 'Grace Hopperton' });
    await a.db.collection('users').updateOne({ _id: surname._id as never }, { $set: { email: 'grace@navy.example' } });
    expect((await get('/api/v1/admin/users?q=hopperton')).body.users.map((u: { id: string }) => u.id)).toEqual([surname._id]);
    expect((await get('/api/v1/admin/users?q=navy.example')).body.users.map((u: { id: string }) => u.id)).toEqual([surname._id]);
    expect((await get('/api/v1/admin/users?q=.*')).body.users).toEqual([]);
    const first = await get('/api/v1/admin/users?limit=1');
    expect(first.body.next).toBeTruthy();
    const second = await get(`/api/v1/admin/users?limit=1&cursor=${first.body.next}`);
    expect(second.body.users[0].id).not.toBe(first.body.users[0].id);
    // And back: the page before the second is the first, which has nothing before it.
    expect(first.body.prev).toBeNull();
    const back = await get(`/api/v1/admin/users?limit=1&before=${second.body.prev}`);
    expect(back.body.users.map((u: { id: string }) => u.id)).toEqual(first.body.users.map((u: { id: string }) => u.id));
    expect(back.body.prev).toBeNull();
    expect(back.body.next).toBe(first.body.next);
    expect((await get('/api/v1/admin/users?q[$ne]=x')).status).toBe(400);
    expect((await get('/api/v1/admin/users?status=weird')).status).toBe(400);

    const detail = await get(`/api/v1/admin/users/${admin._id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.user.roles).toContain('admin');
    expect(detail.body.sessions.length).toBeGreaterThan(0);
    expect(detail.body.sessions.every((session: { ip: unknown }) => session.ip === null)).toBe(true);
  });

  it('the gatehouse CLI disables and enables by email, audited as cli', async () => {
    const person = await createUser(a, { name: 'Cli Target' });
    await a.db.collection('users').updateOne({ _id: person._id as never }, { $set: { email: 'cli.target@example.com' } });
    const run = (...args: string[]) => runGatehouse(a, ['users', ...args]);
    const disabled = await run('disable', 'Cli.Target@example.com');
    expect(disabled.stderr).toBe('');
    expect(disabled.stdout).toContain('is now disabled');
    expect((await a.services.users.findById(person._id))?.status).toBe('disabled');
    const enabled = await run('enable', person._id);
    expect(enabled.stderr).toBe('');
    expect(enabled.stdout).toContain('is now active');
    expect(await a.db.collection('audit').countDocuments({ actor: 'cli', target: `user:${person._id}` })).toBe(2);
    const missing = await run('disable', 'nobody@example.com');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no user');
  });
});
