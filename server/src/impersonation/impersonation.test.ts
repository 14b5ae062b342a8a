// Support access (issue 12 item 5, docs/impersonation.md): docs/security-tests.md S1-S7.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createUser, startBrowserSession, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { expectProblem } from '../../test/http-checks.js';
import { apiHeaders } from '../../test/local-auth-support.js';
import { cookieFrom } from '../../test/sign-in.js';
import { rememberSecret } from '../../test/suite-audit.js';
import type { User } from '../users/index.js';

const VIEW_COOKIE = '__Host-gatehouse-impersonation';

/** The console's support-view form, as a browser posts it; returns the response. */
async function startView(t: TestApp, adminCookie: string, targetId: string, body: Record<string, string> = {}) {
  const token = adminCookie.replace(/^__Host-gatehouse=/, '');
  const { principal } = await t.services.sessions.authenticate(token);
  return t.http
    .post(`/admin/users/${targetId}/impersonate`)
    .set('Cookie', adminCookie)
    .set('Origin', TEST_ORIGIN)
    .type('form')
    .send({
      csrf: t.services.csrf.forSession(principal.sessionId ?? ''),
      reason: 'Ticket 4711: cannot see her sessions',
      minutes: '15',
      ...body,
    });
}

/** Starts a view and returns the cookie header carrying both the admin's session and the view. */
async function viewAs(t: TestApp, adminCookie: string, target: User): Promise<{ both: string; view: string }> {
  const response = await startView(t, adminCookie, target._id);
  expect(response.status, response.text).toBe(303);
  expect(response.headers.location).toBe('/account');
  const view = cookieFrom(response.headers['set-cookie'], VIEW_COOKIE) ?? '';
  expect(view).not.toBe('');
  rememberSecret('a support view token', view.split('=')[1] ?? '');
  return { both: `${adminCookie}; ${view}`, view };
}

describe('S1 support access is off unless configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('offers no form and refuses the start, audited', async () => {
    const owner = await createUser(t, { roles: ['owner', 'admin', 'user'], name: 'Olga Owner' });
    const target = await createUser(t, { name: 'Pat Plain' });
    const { cookie } = await startBrowserSession(t, owner);
    const page = await t.http.get(`/admin/users/${target._id}`).set('Cookie', cookie);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('impersonate-form');
    const refused = await startView(t, cookie, target._id);
    expect(refused.status).toBe(403);
    expect(cookieFrom(refused.headers['set-cookie'], VIEW_COOKIE)).toBeNull();
    expect(await t.db.collection('audit').countDocuments({ action: 'impersonation.started', outcome: 'refused' })).toBe(1);
  });
});

describe('support access for admins (IMPERSONATION=admins)', () => {
  let t: TestApp;
  let admin: User;
  let adminCookie: string;
  let target: User;
  beforeAll(async () => {
    t = await createTestApp({ IMPERSONATION: 'admins' });
    admin = await createUser(t, { roles: ['admin', 'user'], name: 'Ada Admin' });
    ({ cookie: adminCookie } = await startBrowserSession(t, admin));
    target = await createUser(t, { name: 'Pat Plain' });
  });
  afterAll(() => t.close());

  it('S2 a view shows the person’s account with a banner naming the admin, and the person sees it in their activity with the reason', async () => {
    const page = await t.http.get(`/admin/users/${target._id}`).set('Cookie', adminCookie);
    expect(page.text).toContain('impersonate-form');
    const { both } = await viewAs(t, adminCookie, target);
    const account = await t.http.get('/account').set('Cookie', both);
    expect(account.status).toBe(200);
    expect(account.text).toContain('<h1>Pat Plain</h1>');
    expect(account.text).toContain('id="impersonation-banner"');
    expect(account.text).toContain('you, Ada Admin, are viewing the account of <strong>Pat Plain</strong>');
    expect(account.text).toContain('action="/impersonation/stop"');
    const me = await t.http.get('/api/v1/me').set('Cookie', both);
    expect(me.body.id).toBe(target._id);

    const { cookie: targetCookie } = await startBrowserSession(t, target);
    const activity = await t.http.get('/api/v1/me/activity').set('Cookie', targetCookie);
    const entry = activity.body.activity.find((item: { action: string }) => item.action === 'impersonation.started');
    expect(entry.description).toBe('An administrator viewed your account (support access): “Ticket 4711: cannot see her sessions”');
    // Without the admin's session the view cookie is nothing.
    const { view } = await viewAs(t, adminCookie, target);
    expect((await t.http.get('/api/v1/me').set('Cookie', view)).status).toBe(401);
  });

  it('S3 is read-only: every change is refused with IMPERSONATION_READ_ONLY and nothing changes', async () => {
    const { both } = await viewAs(t, adminCookie, target);
    const { sessionId } = await startBrowserSession(t, target);
    const csrf = t.services.csrf.forSession(
      (await t.services.sessions.authenticate(adminCookie.split('=')[1] ?? '')).principal.sessionId ?? '',
    );
    const attempts = [
      t.http.delete(`/api/v1/me/sessions/${sessionId}`),
      t.http.post('/api/v1/me/sessions/revoke-others'),
      t.http.patch('/api/v1/me').send({ name: 'Hijacked' }),
      t.http.post('/api/v1/me/api-tokens').send({ name: 'x', scopes: ['profile:read'], expiresInDays: 1 }),
      t.http.post('/api/v1/me/password/set').send({ password: 'a new long password 1' }),
      t.http.post('/auth/logout').type('form').send({ csrf }),
      t.http.post(`/admin/users/${target._id}/impersonate`).type('form').send({ csrf, reason: 'again' }),
    ];
    for (const attempt of attempts) {
      const response = await attempt
        .set('Cookie', both)
        .set('Origin', TEST_ORIGIN)
        .set('X-CSRF-Token', csrf)
        .set('Accept', 'application/json');
      expectProblem(response, 403, 'IMPERSONATION_READ_ONLY');
    }
    const after = await t.services.users.findById(target._id);
    expect(after?.name).toBe('Pat Plain');
    expect(
      (await t.http.get('/api/v1/me/sessions').set('Cookie', both)).body.sessions.some((s: { id: string }) => s.id === sessionId),
    ).toBe(true);
  });

  it('S4 never of an owner, another admin or oneself; a reason is required', async () => {
    const owner = await createUser(t, { roles: ['owner', 'admin', 'user'] });
    const other = await createUser(t, { roles: ['admin', 'user'] });
    for (const id of [owner._id, other._id, admin._id]) {
      const refused = await startView(t, adminCookie, id);
      expect(refused.status, id).toBe(403);
      expect(cookieFrom(refused.headers['set-cookie'], VIEW_COOKIE)).toBeNull();
    }
    for (const reason of ['', 'ab', 'x'.repeat(201)]) {
      const refused = await startView(t, adminCookie, target._id, { reason });
      expect(refused.status, `reason ${reason.length}`).toBe(400);
    }
    expect((await startView(t, adminCookie, target._id, { minutes: '60' })).status).toBe(400);
    const plain = await createUser(t);
    const { cookie } = await startBrowserSession(t, plain);
    expect((await startView(t, cookie, target._id)).status).toBe(403);
  });

  it('S5 the view token is only a view: not a session, not a bearer token, not for another admin’s session', async () => {
    const { view } = await viewAs(t, adminCookie, target);
    const token = view.split('=')[1] ?? '';
    expect((await t.http.get('/api/v1/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    expect((await t.http.get('/api/v1/me').set('Cookie', `__Host-gatehouse=${token}`)).status).toBe(401);
    const second = await createUser(t, { roles: ['admin', 'user'] });
    const { cookie: secondCookie } = await startBrowserSession(t, second);
    const borrowed = await t.http.get('/api/v1/me').set('Cookie', `${secondCookie}; ${view}`);
    expect(borrowed.body.id).toBe(second._id);
    expect(String(borrowed.headers['set-cookie'])).toContain(`${VIEW_COOKIE}=;`);
    // The admin's own other session has no view either.
    const { cookie: otherSession } = await startBrowserSession(t, admin);
    expect((await t.http.get('/api/v1/me').set('Cookie', `${otherSession}; ${view}`)).body.id).toBe(admin._id);
  });

  it('S6 a view ends when stopped (even if its cookie is replayed), after its time, and with the admin’s session', async () => {
    const { both, view } = await viewAs(t, adminCookie, target);
    const csrf = t.services.csrf.forSession(
      (await t.services.sessions.authenticate(adminCookie.split('=')[1] ?? '')).principal.sessionId ?? '',
    );
    const stopped = await t.http.post('/impersonation/stop').set('Cookie', both).set('Origin', TEST_ORIGIN).type('form').send({ csrf });
    expect(stopped.status, stopped.text).toBe(303);
    expect(stopped.headers.location).toBe(`/admin/users/${target._id}?done=impersonation-stopped`);
    expect((await t.http.get(stopped.headers.location ?? '').set('Cookie', adminCookie)).text).toContain('Support view stopped.');
    expect((await t.http.get('/api/v1/me').set('Cookie', `${adminCookie}; ${view}`)).body.id).toBe(admin._id);
    expect(await t.db.collection('audit').countDocuments({ action: 'impersonation.ended', target: `user:${target._id}` })).toBe(1);
    const badCsrf = await t.http
      .post('/impersonation/stop')
      .set('Cookie', both)
      .set('Origin', TEST_ORIGIN)
      .type('form')
      .send({ csrf: 'nope' });
    expect(badCsrf.status).toBe(403);

    const timed = await viewAs(t, adminCookie, target);
    t.clock.advance(16 * 60_000);
    try {
      expect((await t.http.get('/api/v1/me').set('Cookie', timed.both)).body.id).toBe(admin._id);
    } finally {
      t.clock.advance(-16 * 60_000);
    }

    const { cookie: shortSession, sessionId } = await startBrowserSession(t, admin);
    const ending = await viewAs(t, shortSession, target);
    expect((await t.http.get('/api/v1/me').set('Cookie', ending.both)).body.id).toBe(target._id);
    await t.services.sessions.revoke(sessionId, admin._id, 'test');
    expect((await t.http.get('/api/v1/me').set('Cookie', ending.both)).status).toBe(401);
  });

  it('S7 the view ends when the admin loses the role, and when the person becomes an admin', async () => {
    const demoted = await createUser(t, { roles: ['admin', 'user'], name: 'Soon Plain' });
    const { cookie } = await startBrowserSession(t, demoted);
    const { both } = await viewAs(t, cookie, target);
    expect((await t.http.get('/api/v1/me').set('Cookie', both)).body.id).toBe(target._id);
    await t.db.collection('users').updateOne({ _id: demoted._id as never }, { $set: { roles: ['user'] } });
    expect((await t.http.get('/api/v1/me').set('Cookie', both)).body.id).toBe(demoted._id);

    const promoted = await createUser(t, { name: 'Soon Admin' });
    const view = await viewAs(t, adminCookie, promoted);
    await t.db.collection('users').updateOne({ _id: promoted._id as never }, { $set: { roles: ['admin', 'user'] } });
    expect((await t.http.get('/api/v1/me').set('Cookie', view.both)).body.id).toBe(admin._id);
  });
});

describe('S7 IMPERSONATION=owner', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ IMPERSONATION: 'owner' });
  });
  afterAll(() => t.close());

  it('lets owners start a view and refuses admins', async () => {
    const target = await createUser(t, { name: 'Pat Plain' });
    const admin = await createUser(t, { roles: ['admin', 'user'] });
    const owner = await createUser(t, { roles: ['owner', 'admin', 'user'] });
    expect((await startView(t, (await startBrowserSession(t, admin)).cookie, target._id)).status).toBe(403);
    const ok = await startView(t, (await startBrowserSession(t, owner)).cookie, target._id);
    expect(ok.status, ok.text).toBe(303);
    rememberSecret('a support view token', (cookieFrom(ok.headers['set-cookie'], VIEW_COOKIE) ?? '').split('=')[1] ?? '');
    const json = await t.http.get('/api/v1/admin/users').set(await apiHeaders(t, (await startBrowserSession(t, owner)).cookie));
    expect(json.status).toBe(200);
  });
});
