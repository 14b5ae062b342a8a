// Personal API tokens, introspection (RFC 7662), revocation (RFC 7009) and the sessions API, as a
// person and a resource server use them: created from a cookie session and shown once, listed
// as sessions of kind `api`, used as Bearer within their scopes, revoked by DELETE or RFC 7009;
// introspection answers only authenticated resource servers; the sessions list pages with a
// cursor; nobody touches another user's sessions; only admins revoke everything of a user.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createUser, issueApiToken, startBrowserSession, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { expectProblem, introspectRequest, SecretWatch } from '../../test/http-checks.js';
import { ALICE, BOB, signIn } from '../../test/sign-in.js';
import type { User } from '../users/index.js';

const RESOURCE_SERVER = { id: 'reports', secret: randomBytes(32).toString('base64url') };
const watch = new SecretWatch();
let t: TestApp;

/** A person with a cookie session, as the account page has it. */
interface Person {
  user: User;
  cookie: string;
  sessionId: string;
  headers: Record<string, string>;
}
let alice: Person;
let bob: Person;

async function signedIn(credentials: typeof ALICE): Promise<Person> {
  const { sessionCookie } = await signIn(t, credentials);
  watch.add('session cookie', sessionCookie);
  const sessionId = JSON.parse(Buffer.from(sessionCookie.split('.')[1] ?? '', 'base64url').toString()).sid as string;
  const user = (await t.services.users.findByEmail(credentials.login)) as User;
  return {
    user,
    cookie: sessionCookie,
    sessionId,
    headers: { Cookie: sessionCookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': t.services.csrf.forSession(sessionId) },
  };
}

async function fresh(): Promise<Person> {
  const user = await createUser(t);
  const { cookie, sessionId } = await startBrowserSession(t, user);
  return {
    user,
    cookie,
    sessionId,
    headers: { Cookie: cookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': t.services.csrf.forSession(sessionId) },
  };
}

beforeAll(async () => {
  t = watch.track(
    await createTestApp({ RESOURCE_SERVERS: `${RESOURCE_SERVER.id}:${RESOURCE_SERVER.secret},other:${randomBytes(32).toString('hex')}` }),
  );
  watch.add('resource server secret', RESOURCE_SERVER.secret);
  alice = await signedIn(ALICE);
  bob = await signedIn(BOB);
});
afterAll(() => watch.closeAll());

async function createToken(p: Person, body: object = { name: 'CI pipeline', scopes: ['sessions:read'], expiresInDays: 30 }) {
  const response = await t.http.post('/api/v1/me/api-tokens').set(p.headers).send(body);
  if (response.body.token) watch.add('api token', response.body.token);
  return response;
}
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const introspect = (token: string) => introspectRequest(t, token, [RESOURCE_SERVER.id, RESOURCE_SERVER.secret]);

describe('personal API tokens', () => {
  it('are created from a cookie session: 201, the token shown once with its scopes and expiry, never stored', async () => {
    const response = await createToken(alice, { name: 'CI pipeline', scopes: ['sessions:read', 'profile:read'], expiresInDays: 30 });
    expect(response.status, response.text).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toEqual({
      id: expect.any(String),
      token: expect.any(String),
      expiresAt: expect.any(String),
      scopes: ['sessions:read', 'profile:read'],
    });
    const days = (Date.parse(response.body.expiresAt) - t.clock.now().getTime()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    const stored = JSON.stringify(await t.db.collection('sessions').find().toArray());
    expect(stored).not.toContain(response.body.token);
    expect(JSON.stringify((await t.http.get('/api/v1/me/sessions').set(alice.headers)).body)).not.toContain(response.body.token);
    const audit = await t.db.collection('audit').findOne({ action: 'api_token.created', target: `session:${response.body.id}` });
    expect(audit?.actor).toBe(`user:${alice.user._id}`);
  });

  it('are listed among the sessions as kind "api" with their name and scopes', async () => {
    const { body } = await createToken(alice, { name: 'Grafana', scopes: ['sessions:read'], expiresInDays: 7 });
    const list = await t.http.get('/api/v1/me/sessions?limit=100').set(alice.headers);
    expect(list.body.sessions).toContainEqual(
      expect.objectContaining({ id: body.id, kind: 'api', device: 'Grafana', scopes: ['sessions:read'], current: false }),
    );
    expect(list.body.sessions).toContainEqual(expect.objectContaining({ id: alice.sessionId, kind: 'browser', current: true }));
  });

  it('work as Bearer, and the list marks the token’s own session as current', async () => {
    const { body } = await createToken(alice);
    const list = await t.http.get('/api/v1/me/sessions?limit=100').set(bearer(body.token));
    expect(list.status).toBe(200);
    expect(list.body.sessions.find((s: { current: boolean }) => s.current)?.id).toBe(body.id);
  });

  it('are held to their scopes: 403 INSUFFICIENT_SCOPE with a challenge naming the scope', async () => {
    const { body } = await createToken(alice, { name: 'read only', scopes: ['sessions:read'], expiresInDays: 1 });
    const me = await t.http.get('/api/v1/me').set(bearer(body.token));
    expectProblem(me, 403, 'INSUFFICIENT_SCOPE');
    expect(me.headers['www-authenticate']).toBe('Bearer error="insufficient_scope", scope="profile:read"');
    expectProblem(await t.http.post('/api/v1/me/sessions/revoke-others').set(bearer(body.token)), 403, 'INSUFFICIENT_SCOPE');
    expectProblem(await t.http.delete(`/api/v1/me/sessions/${alice.sessionId}`).set(bearer(body.token)), 403, 'INSUFFICIENT_SCOPE');
    expect((await t.http.get('/api/v1/me').set(alice.headers)).status).toBe(200); // nothing was revoked

    const profile = await createToken(alice, { name: 'profile', scopes: ['profile:read'], expiresInDays: 1 });
    expect((await t.http.get('/api/v1/me').set(bearer(profile.body.token))).body.id).toBe(alice.user._id);
    expectProblem(await t.http.get('/api/v1/me/sessions').set(bearer(profile.body.token)), 403, 'INSUFFICIENT_SCOPE');
  });

  it('cannot mint more tokens, sign a browser out, or be created with bad input', async () => {
    const { body } = await createToken(alice, {
      name: 'all',
      scopes: ['profile:read', 'sessions:read', 'sessions:revoke'],
      expiresInDays: 1,
    });
    const request = { name: 'child', scopes: ['sessions:read'], expiresInDays: 1 };
    expectProblem(await t.http.post('/api/v1/me/api-tokens').set(bearer(body.token)).send(request), 403, 'FORBIDDEN');
    expectProblem(await t.http.post('/api/v1/login/logout').set(bearer(body.token)), 403, 'FORBIDDEN');
    for (const bad of [
      { ...request, scopes: ['admin'] },
      { ...request, scopes: [] },
      { ...request, name: '' },
      { ...request, name: 'x\ny' },
      { ...request, expiresInDays: 0 },
      { ...request, expiresInDays: t.config.API_TOKEN_MAX_DAYS + 1 },
      { ...request, expiresInDays: 1.5 },
      { ...request, extra: true },
    ]) {
      expectProblem(await createToken(alice, bad), 400, 'VALIDATION_FAILED');
    }
  });

  it('are revoked by DELETE /api/v1/me/sessions/{id}: the next request is refused', async () => {
    const { body } = await createToken(alice);
    expect((await t.http.get('/api/v1/me/sessions').set(bearer(body.token))).status).toBe(200);
    expect((await t.http.delete(`/api/v1/me/sessions/${body.id}`).set(alice.headers)).status).toBe(204);
    expectProblem(await t.http.get('/api/v1/me/sessions').set(bearer(body.token)), 401, 'TOKEN_REVOKED');
    expect(await t.db.collection('audit').countDocuments({ action: 'api_token.revoked', target: `session:${body.id}` })).toBe(1);
    const list = await t.http.get('/api/v1/me/sessions?limit=100').set(alice.headers);
    expect(list.body.sessions.map((s: { id: string }) => s.id)).not.toContain(body.id);
  });

  it('are revoked by POST /oauth/revoke (RFC 7009): 200 and the token and its session end', async () => {
    const { body } = await createToken(alice);
    const response = await t.http.post('/oauth/revoke').type('form').send({ token: body.token, token_type_hint: 'access_token' });
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expectProblem(await t.http.get('/api/v1/me/sessions').set(bearer(body.token)), 401, 'TOKEN_REVOKED');
    expect((await t.db.collection('sessions').findOne({ _id: body.id }))?.revokedAt).toBeInstanceOf(Date);
    // Revoking again, or revoking garbage, is also 200 (RFC 7009 §2.2: reveals nothing).
    expect((await t.http.post('/oauth/revoke').type('form').send({ token: body.token })).status).toBe(200);
    expect((await t.http.post('/oauth/revoke').type('form').send({ token: 'garbage' })).status).toBe(200);
    expect((await t.http.post('/oauth/revoke').type('form').send({})).status).toBe(400);
  });
});

describe('introspection (RFC 7662)', () => {
  it('a live API token: active with its claims', async () => {
    const { body } = await createToken(alice, { name: 'intro', scopes: ['sessions:read', 'profile:read'], expiresInDays: 2 });
    const response = await introspect(body.token);
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toEqual({
      active: true,
      sub: alice.user._id,
      scope: 'sessions:read profile:read',
      client_id: 'gatehouse',
      token_type: 'Bearer',
      exp: expect.any(Number),
      iat: expect.any(Number),
      iss: TEST_ORIGIN,
      aud: 'gatehouse:api',
      jti: expect.any(String),
      sid: body.id,
    });
    expect(response.body.exp - response.body.iat).toBe(2 * 86_400);
  });

  it('inactive for a revoked token, garbage, a session cookie token, and a token of a disabled user', async () => {
    const revoked = await createToken(alice);
    await t.http.delete(`/api/v1/me/sessions/${revoked.body.id}`).set(alice.headers);
    const disabled = await fresh();
    const disabledToken = await issueApiToken(t, disabled.user);
    await t.db.collection<User>('users').updateOne({ _id: disabled.user._id }, { $set: { status: 'disabled' } });
    await t.services.revocation.userChanged(disabled.user._id, { tokenVersion: 0, status: 'disabled' });
    for (const token of [revoked.body.token, 'garbage', 'a.b.c', alice.cookie.split('=')[1] ?? '', disabledToken.token]) {
      const response = await introspect(token);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ active: false });
    }
  });

  it.each([
    ['a wrong secret', () => t.http.post('/oauth/introspect').auth(RESOURCE_SERVER.id, 'wrong'.repeat(9))],
    ['an unknown id with the right secret', () => t.http.post('/oauth/introspect').auth('nobody', RESOURCE_SERVER.secret)],
    ['no credentials', () => t.http.post('/oauth/introspect')],
    ['an empty id', () => t.http.post('/oauth/introspect').auth('', RESOURCE_SERVER.secret)],
    [
      'Basic with no colon',
      () => t.http.post('/oauth/introspect').set('Authorization', `Basic ${Buffer.from(RESOURCE_SERVER.id).toString('base64')}`),
    ],
    ['Basic that is not base64', () => t.http.post('/oauth/introspect').set('Authorization', 'Basic !!!')],
    ['a Bearer API token', () => t.http.post('/oauth/introspect').set('Authorization', 'Bearer x.y.z')],
    ['the other server’s id with this one’s secret', () => t.http.post('/oauth/introspect').auth('other', RESOURCE_SERVER.secret)],
  ])('%s: 401 invalid_client with a Basic challenge', async (_what, request) => {
    const { body } = await createToken(alice);
    const response = await request().type('form').send({ token: body.token });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: 'invalid_client' });
    expect(response.headers['www-authenticate']).toBe('Basic realm="gatehouse"');
    expect(JSON.stringify(response.body)).not.toContain(alice.user._id);
  });

  it('accepts the configured credentials however RFC 6749 lets a client spell them (percent-encoded characters)', async () => {
    const { body } = await createToken(alice);
    const escaped = (character: string) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`;
    const { id, secret } = RESOURCE_SERVER;
    for (const credentials of [`${escaped('r')}${id.slice(1)}:${secret}`, `${id}:${escaped(secret.charAt(0))}${secret.slice(1)}`]) {
      const response = await t.http
        .post('/oauth/introspect')
        .set('Authorization', `Basic ${Buffer.from(credentials).toString('base64')}`)
        .type('form')
        .send({ token: body.token });
      expect(response.status, credentials).toBe(200);
      expect(response.body.active).toBe(true);
    }
  });
});

describe('the sessions API', () => {
  it('pages with a cursor: limit 1, then next, until null, each session once', async () => {
    const p = await fresh();
    for (let i = 0; i < 3; i++) await startBrowserSession(t, p.user);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=1&cursor=${encodeURIComponent(cursor)}` : '?limit=1';
      const response = await t.http.get(`/api/v1/me/sessions${query}`).set(p.headers);
      expect(response.status, response.text).toBe(200);
      expect(response.body.sessions).toHaveLength(1);
      seen.push(response.body.sessions[0].id);
      cursor = response.body.next;
    } while (cursor && seen.length < 10);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
    const all = await t.http.get('/api/v1/me/sessions').set(p.headers);
    expect(all.body.sessions.map((s: { id: string }) => s.id)).toEqual(seen);
    expect(all.body.next).toBeNull();
  });

  it('refuses a forged cursor and out-of-range limits with 400', async () => {
    const p = await fresh();
    for (const query of ['?cursor=bm9wZQ', '?cursor=%24ne', '?limit=0', '?limit=101', '?limit=x', '?limit=1&limit=2', '?other=1']) {
      const response = await t.http.get(`/api/v1/me/sessions${query}`).set(p.headers);
      expect(response.status, query).toBe(400);
    }
  });

  it('revoke-others keeps the current session and ends every other (browser and API)', async () => {
    const p = await fresh();
    const second = await startBrowserSession(t, p.user);
    const api = await issueApiToken(t, p.user);
    const response = await t.http.post('/api/v1/me/sessions/revoke-others').set(p.headers);
    expect(response.body).toEqual({ revoked: 2 });
    expect((await t.http.get('/api/v1/me').set('Cookie', p.cookie)).status).toBe(200);
    expectProblem(await t.http.get('/api/v1/me').set('Cookie', second.cookie), 401, 'TOKEN_REVOKED');
    expectProblem(await t.http.get('/api/v1/me/sessions').set(bearer(api.token)), 401, 'TOKEN_REVOKED');
    const list = await t.http.get('/api/v1/me/sessions').set(p.headers);
    expect(list.body.sessions.map((s: { id: string }) => s.id)).toEqual([p.sessionId]);
  });

  it('DELETE of another user’s session id, an unknown id, or an already revoked one → 404 SESSION_NOT_FOUND, nothing revoked', async () => {
    const p = await fresh();
    for (const id of [bob.sessionId, 'A'.repeat(32)]) {
      expectProblem(await t.http.delete(`/api/v1/me/sessions/${id}`).set(p.headers), 404, 'SESSION_NOT_FOUND');
    }
    expect((await t.http.get('/api/v1/me').set('Cookie', bob.cookie)).status).toBe(200);
    const second = await startBrowserSession(t, p.user);
    expect((await t.http.delete(`/api/v1/me/sessions/${second.sessionId}`).set(p.headers)).status).toBe(204);
    expectProblem(await t.http.delete(`/api/v1/me/sessions/${second.sessionId}`).set(p.headers), 404, 'SESSION_NOT_FOUND');
    expectProblem(
      await t.http.delete(`/api/v1/me/sessions/${encodeURIComponent('{"$ne":null}')}`).set(p.headers),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('an admin’s revoke-all by a non-admin (bob) → 403 FORBIDDEN and nothing revoked; by alice (admin) → everything', async () => {
    const target = await fresh();
    const forbidden = await t.http.post(`/api/v1/users/${target.user._id}/sessions/revoke-all`).set(bob.headers);
    expectProblem(forbidden, 403, 'FORBIDDEN');
    expect((await t.http.get('/api/v1/me').set('Cookie', target.cookie)).status).toBe(200);
    expect((await t.services.users.findById(target.user._id))?.tokenVersion).toBe(0);
    const bobApi = await issueApiToken(t, bob.user, ['sessions:revoke']);
    expectProblem(await t.http.post(`/api/v1/users/${target.user._id}/sessions/revoke-all`).set(bearer(bobApi.token)), 403, 'FORBIDDEN');

    const allowed = await t.http.post(`/api/v1/users/${target.user._id}/sessions/revoke-all`).set(alice.headers);
    expect(allowed.status, allowed.text).toBe(200);
    expect(allowed.body).toEqual({ revoked: 1 });
    expect((await t.services.users.findById(target.user._id))?.tokenVersion).toBe(1);
    expectProblem(await t.http.get('/api/v1/me').set('Cookie', target.cookie), 401, 'TOKEN_REVOKED');
    const unknown = await t.http.post('/api/v1/users/nobody-like-this/sessions/revoke-all').set(alice.headers);
    expectProblem(unknown, 404, 'NOT_FOUND');
  });
});

describe('after all of the above', () => {
  it('the process still serves and no token or secret reached the logs', async () => {
    expect((await t.http.get('/api/v1/me').set('Cookie', alice.cookie)).status).toBe(200);
    watch.expectNoSecretInLogs();
  });
});
