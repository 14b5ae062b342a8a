// docs/security-tests.md C1–C12 on the cookie-authenticated JSON API: an unsafe request riding a valid
// session cookie needs our exact Origin (Referer as fallback, neither → refused) AND the CSRF
// token bound to that session in X-CSRF-Token. Refusals are 403 problem details with a stable
// code, and nothing changes in MongoDB. Bearer API tokens skip the origin check; cookies never
// authenticate bearer-only routes; no GET writes; cookies carry the __Host- attributes; a
// pre-login session dies at login; old cookies die at logout, revoke-others and revoke-all; CORS
// never hands out credentials.
import { randomBytes } from 'node:crypto';
import type { ErrorCode } from '@gatehouse/shared';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  createUser,
  issueApiToken,
  startBrowserSession,
  TEST_MASTER_KEY,
  TEST_ORIGIN,
  type TestApp,
} from '../../test/harness.js';
import { expectProblem, SecretWatch } from '../../test/http-checks.js';
import { ALICE, authorizeAtIdp, callback, cookieFrom, SESSION_COOKIE, setCookieLines, signIn, startLogin } from '../../test/sign-in.js';
import { ConfigError, loadConfig } from '../config/index.js';
import type { User } from '../users/index.js';

const watch = new SecretWatch();
let t: TestApp;
let alice: User;
let aliceCookie: string;

beforeAll(async () => {
  t = watch.track(await createTestApp());
  aliceCookie = (await signIn(t, ALICE)).sessionCookie;
  watch.add('alice session cookie', aliceCookie);
  alice = (await t.services.users.findByEmail('alice@example.com')) as User;
});
afterAll(() => watch.closeAll());

/** A fresh user signed in twice: `cookie` acts, `other` is a second session to aim at. */
interface Person {
  user: User;
  cookie: string;
  sessionId: string;
  csrf: string;
  other: { cookie: string; sessionId: string };
}

async function person(): Promise<Person> {
  const user = await createUser(t);
  const main = await startBrowserSession(t, user);
  const other = await startBrowserSession(t, user);
  watch.add('session cookie', main.cookie);
  watch.add('session cookie', other.cookie);
  return { user, cookie: main.cookie, sessionId: main.sessionId, csrf: t.services.csrf.forSession(main.sessionId), other };
}

/** What the three cookie-authenticated unsafe endpoints could change: revoked sessions and API tokens. */
async function stateOf(user: User): Promise<{ active: number; api: number }> {
  const sessions = t.db.collection('sessions');
  return {
    active: await sessions.countDocuments({ userId: user._id, revokedAt: null }),
    api: await sessions.countDocuments({ userId: user._id, kind: 'api' }),
  };
}

type Headers = Record<string, string>;
type Body = { type: 'json' | 'form' | 'text/plain'; value: string | object } | null;

const API_TOKEN_REQUEST = { name: 'ci', scopes: ['sessions:read'], expiresInDays: 7 };

/** The unsafe cookie-authenticated endpoints, each with the status it answers when allowed. */
const ENDPOINTS = [
  { name: 'DELETE /api/v1/me/sessions/{id}', ok: 204, method: 'delete', path: (p: Person) => `/api/v1/me/sessions/${p.other.sessionId}` },
  { name: 'POST /api/v1/me/sessions/revoke-others', ok: 200, method: 'post', path: () => '/api/v1/me/sessions/revoke-others' },
  { name: 'POST /api/v1/me/api-tokens', ok: 201, method: 'post', path: () => '/api/v1/me/api-tokens' },
] as const;
type Endpoint = (typeof ENDPOINTS)[number];

function send(endpoint: Endpoint, p: Person, headers: Headers, body: Body = { type: 'json', value: API_TOKEN_REQUEST }) {
  const request = t.http[endpoint.method](endpoint.path(p)).set(headers);
  if (!body) return request;
  if (body.type === 'text/plain') return request.set('Content-Type', 'text/plain').send(String(body.value));
  return request.type(body.type).send(body.value as object);
}

const good = (p: Person): Headers => ({ Cookie: p.cookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': p.csrf });

/** 403 with the code, and the person's sessions and tokens exactly as before. */
async function expectRefused(endpoint: Endpoint, p: Person, headers: Headers, code: ErrorCode, body?: Body): Promise<Response> {
  const before = await stateOf(p.user);
  const response = await send(endpoint, p, headers, body);
  expectProblem(response, 403, code);
  expect(await stateOf(p.user)).toEqual(before);
  return response;
}

describe.each(ENDPOINTS)('$name with a valid session cookie', (endpoint) => {
  it('control: same origin + the session’s CSRF token is allowed', async () => {
    const p = await person();
    const response = await send(endpoint, p, good(p));
    expect(response.status, response.text).toBe(endpoint.ok);
  });

  it.each([
    [
      'an HTML form (application/x-www-form-urlencoded)',
      { type: 'form', value: { name: 'ci', scopes: 'sessions:read', expiresInDays: '7' } },
    ],
    ['text/plain (a form with enctype=text/plain)', { type: 'text/plain', value: JSON.stringify(API_TOKEN_REQUEST) }],
    ['application/json (fetch with no-cors cannot, but a misconfigured CORS could)', { type: 'json', value: API_TOKEN_REQUEST }],
  ] as const)('C1 a cross-site POST as %s is refused: 403 ORIGIN_REJECTED', async (_what, body) => {
    const p = await person();
    await expectRefused(endpoint, p, { Cookie: p.cookie, Origin: 'https://evil.example' }, 'ORIGIN_REJECTED', body);
    // Even a leaked CSRF token does not make a cross-site request acceptable.
    await expectRefused(endpoint, p, { ...good(p), Origin: 'https://evil.example' }, 'ORIGIN_REJECTED', body);
    await expectRefused(
      endpoint,
      p,
      { ...good(p), Origin: 'https://evil.example', Referer: `${TEST_ORIGIN}/account` },
      'ORIGIN_REJECTED',
      body,
    );
  });

  it('C2 Origin: null (sandboxed iframe, data: URL, some redirects) is refused', async () => {
    const p = await person();
    await expectRefused(endpoint, p, { ...good(p), Origin: 'null' }, 'ORIGIN_REJECTED');
    await expectRefused(endpoint, p, { ...good(p), Origin: 'null', Referer: `${TEST_ORIGIN}/account` }, 'ORIGIN_REJECTED');
  });

  it('C3 neither Origin nor Referer is refused', async () => {
    const p = await person();
    await expectRefused(endpoint, p, { Cookie: p.cookie, 'X-CSRF-Token': p.csrf }, 'ORIGIN_REJECTED');
    await expectRefused(endpoint, p, { Cookie: p.cookie, 'X-CSRF-Token': p.csrf, Origin: '', Referer: '' }, 'ORIGIN_REJECTED');
  });

  it('C4 Referer fallback: our Referer without Origin is allowed, a foreign or unparsable one is not', async () => {
    const p = await person();
    const headers = { Cookie: p.cookie, 'X-CSRF-Token': p.csrf };
    for (const referer of ['https://evil.example/account', 'not a url', '/account', `${TEST_ORIGIN.replace('http', 'https')}/account`]) {
      await expectRefused(endpoint, p, { ...headers, Referer: referer }, 'ORIGIN_REJECTED');
    }
    const response = await send(endpoint, p, { ...headers, Referer: `${TEST_ORIGIN}/account?tab=sessions#x` });
    expect(response.status, response.text).toBe(endpoint.ok);
  });

  const host = new URL(TEST_ORIGIN).host; // 127.0.0.1:4555
  it.each([
    `http://${host}.evil.com`,
    `http://127.0.0.1.evil.com:4555`,
    `http://evil.com/${TEST_ORIGIN}`,
    `http://${host}@evil.com`,
    `http://evil.com#${host}`,
    'http://127.0.0.1:4556',
    'http://127.0.0.1',
    `https://${host}`,
    `ws://${host}`,
    `http://127.0.0.1.:4555`,
    `${TEST_ORIGIN}/`,
    `${TEST_ORIGIN}.`,
    'HTTP://127.0.0.1:4555',
    'http://localhost:4555',
    'http://[::1]:4555',
    `${TEST_ORIGIN}, https://evil.example`,
    `https://evil.example ${TEST_ORIGIN}`,
  ])('C5 look-alike Origin %s is refused', async (origin) => {
    const p = await person();
    await expectRefused(endpoint, p, { ...good(p), Origin: origin }, 'ORIGIN_REJECTED');
  });

  it.each([
    `http://${host}.evil.com/account`,
    `http://${host}@evil.com/account`,
    `http://evil.com/${TEST_ORIGIN}/account`,
    `http://evil.com/?r=${TEST_ORIGIN}`,
    'http://127.0.0.1:4556/account',
    `https://${host}/account`,
  ])('C5 look-alike Referer %s (no Origin) is refused', async (referer) => {
    const p = await person();
    await expectRefused(endpoint, p, { Cookie: p.cookie, 'X-CSRF-Token': p.csrf, Referer: referer }, 'ORIGIN_REJECTED');
  });

  it('C6 CSRF token missing, empty, wrong, or in the wrong place: 403 CSRF_TOKEN_INVALID', async () => {
    const p = await person();
    const headers = { Cookie: p.cookie, Origin: TEST_ORIGIN };
    await expectRefused(endpoint, p, headers, 'CSRF_TOKEN_INVALID');
    await expectRefused(endpoint, p, { ...headers, 'X-CSRF-Token': '' }, 'CSRF_TOKEN_INVALID');
    await expectRefused(endpoint, p, { ...headers, 'X-CSRF-Token': randomBytes(32).toString('base64url') }, 'CSRF_TOKEN_INVALID');
    await expectRefused(endpoint, p, { ...headers, 'X-CSRF-Token': p.csrf.slice(0, -1) }, 'CSRF_TOKEN_INVALID');
    await expectRefused(endpoint, p, { ...headers, 'X-CSRF-Token': `${p.csrf}x` }, 'CSRF_TOKEN_INVALID');
    await expectRefused(endpoint, p, { ...headers, 'X-XSRF-Token': p.csrf }, 'CSRF_TOKEN_INVALID');
    await expectRefused(endpoint, p, { ...headers, 'X-CSRF-Token': p.sessionId }, 'CSRF_TOKEN_INVALID');
    // In the body of a JSON request it is not read either (scripts use the header).
    await expectRefused(endpoint, p, headers, 'CSRF_TOKEN_INVALID', { type: 'json', value: { ...API_TOKEN_REQUEST, csrf: p.csrf } });
  });

  it('C6 a CSRF token of another session (same user, or another user) is refused', async () => {
    const p = await person();
    const stranger = await person();
    const headers = { Cookie: p.cookie, Origin: TEST_ORIGIN };
    await expectRefused(endpoint, p, { ...headers, 'X-CSRF-Token': t.services.csrf.forSession(p.other.sessionId) }, 'CSRF_TOKEN_INVALID');
    await expectRefused(endpoint, p, { ...headers, 'X-CSRF-Token': stranger.csrf }, 'CSRF_TOKEN_INVALID');
  });

  it('C6 a naive double-submit pair planted by the attacker (cookie == header) is refused', async () => {
    const p = await person();
    const planted = randomBytes(32).toString('base64url');
    const cookie = `${p.cookie}; csrf=${planted}; XSRF-TOKEN=${planted}; __Host-csrf=${planted}`;
    await expectRefused(endpoint, p, { Cookie: cookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': planted }, 'CSRF_TOKEN_INVALID');
  });
});

describe('C7 no state-changing GET', () => {
  interface Route {
    methods: string[];
    path: string;
  }
  /** Every route of every router the app mounted (koa-router exposes itself on its middleware). */
  function registeredRoutes(): Route[] {
    const routers = (t.app.middleware as { router?: { stack: Route[] } }[]).flatMap((middleware) => middleware.router ?? []);
    return routers.flatMap((router) => router.stack.map(({ methods, path }) => ({ methods, path })));
  }

  /** Everything in MongoDB, as one comparable string. */
  async function snapshot(): Promise<string> {
    const names = (await t.db.listCollections().toArray()).map((c) => c.name).sort();
    const parts = await Promise.all(names.map(async (name) => [name, await t.db.collection(name).find().sort({ _id: 1 }).toArray()]));
    return JSON.stringify(parts);
  }

  let concrete: (path: string) => string;
  beforeAll(async () => {
    const p = await person();
    concrete = (path) =>
      path.replace(':provider', 'dev').replace('/sessions/:id', `/sessions/${p.other.sessionId}`).replace(':id', p.user._id);
  });

  it('the app’s routes are found (the checks below cover them all)', () => {
    const names = registeredRoutes().map((route) => `${route.methods.join(',')} ${route.path}`);
    expect(names).toEqual(expect.arrayContaining(['DELETE /api/v1/me/sessions/:id', 'HEAD,GET /api/v1/me', 'POST /oauth/revoke']));
    expect(names.length).toBeGreaterThanOrEqual(20);
  });

  it('every GET/HEAD route leaves MongoDB untouched, with a signed-in cookie and credentials in the query', async () => {
    const fresh = await startBrowserSession(t, alice); // iat = now: no once-a-minute lastSeen refresh on this request
    const api = await issueApiToken(t, alice);
    const routes = registeredRoutes().filter((route) => route.methods.includes('GET'));
    expect(routes.length).toBeGreaterThanOrEqual(10);
    for (const route of routes) {
      // The OIDC callback is a GET by protocol (RFC 6749 redirect); it only creates a session for
      // a valid single-use state bound to this browser — without one it writes nothing but its
      // audit entry (checked below).
      if (route.path === '/auth/:provider/callback') continue;
      for (const method of ['get', 'head'] as const) {
        const before = await snapshot();
        const response = await t.http[method](`${concrete(route.path)}?token=${api.token}&csrf=x&_method=DELETE`)
          .set('Cookie', fresh.cookie)
          .set('Authorization', `Bearer ${api.token}`)
          .set('X-CSRF-Token', t.services.csrf.forSession(fresh.sessionId))
          .set('Origin', TEST_ORIGIN);
        expect(response.status, `${method} ${route.path}`).toBeLessThan(500);
        expect(await snapshot(), `${method.toUpperCase()} ${route.path} wrote to MongoDB`).toBe(before);
      }
    }
  });

  it('the OIDC callback as a bare GET creates no session', async () => {
    const sessions = await t.db.collection('sessions').countDocuments();
    const response = await t.http.get('/auth/dev/callback?code=x&state=y').set('Cookie', aliceCookie).set('Accept', 'application/json');
    expect(response.status).toBe(400);
    expect(await t.db.collection('sessions').countDocuments()).toBe(sessions);
  });

  it('every mutating route refuses GET and HEAD (405, nothing written), and a method-override header is refused', async () => {
    const all = registeredRoutes();
    const readable = new Set(all.filter((route) => route.methods.includes('GET')).map((route) => route.path));
    const mutating = all.filter((route) => !route.methods.includes('GET') && !readable.has(route.path));
    expect(mutating.length).toBeGreaterThanOrEqual(8);
    const p = await person();
    for (const route of mutating) {
      for (const method of ['get', 'head'] as const) {
        const before = await snapshot();
        const response = await t.http[method](concrete(route.path)).set(good(p));
        expect(response.status, `${method} ${route.path}`).toBe(405);
        expect(await snapshot()).toBe(before);
      }
    }
    const override = await t.http.get('/api/v1/me/sessions').set('Cookie', p.cookie).set('X-HTTP-Method-Override', 'DELETE');
    expectProblem(override, 400, 'METHOD_OVERRIDE_REFUSED');
    expect((await stateOf(p.user)).active).toBe(2);
  });
});

describe('C8 Set-Cookie attributes', () => {
  function expectHostCookie(line: string): void {
    expect(line).toMatch(/^__Host-/);
    const attributes = line.split(';').map((part) => part.trim().toLowerCase());
    expect(attributes).toContain('secure');
    expect(attributes).toContain('httponly');
    expect(attributes).toContain('samesite=lax');
    expect(attributes).toContain('path=/');
    expect(attributes.some((attribute) => attribute.startsWith('domain'))).toBe(false);
    expect(attributes.some((attribute) => attribute.startsWith('max-age='))).toBe(true);
  }

  it('the cookie re-issued after a minute of activity (sliding expiry) is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain', async () => {
    const p = await person();
    expect(setCookieLines(await t.http.get('/api/v1/me').set('Cookie', p.cookie))).toEqual([]); // fresh: not re-issued
    t.clock.advance(61_000);
    try {
      const response = await t.http.get('/api/v1/me').set('Cookie', p.cookie);
      expect(response.status).toBe(200);
      const lines = setCookieLines(response);
      expect(lines).toHaveLength(1);
      expectHostCookie(lines[0] ?? '');
      const maxAge = Number(/Max-Age=(\d+)/i.exec(lines[0] ?? '')?.[1]);
      expect(maxAge).toBeGreaterThan(0);
      expect(maxAge).toBeLessThanOrEqual(t.config.SESSION_IDLE_MINUTES * 60);
      const renewed = cookieFrom(lines, SESSION_COOKIE) ?? '';
      expect(renewed).not.toBe(p.cookie);
      expect((await t.http.get('/api/v1/me').set('Cookie', renewed)).status).toBe(200);
      // A request made from the re-issued page with the same session keeps the same CSRF token.
      expect((await t.http.post('/api/v1/me/sessions/revoke-others').set({ ...good(p), Cookie: renewed })).status).toBe(200);
    } finally {
      t.clock.advance(-61_000);
    }
  });

  it('the cookies of a real sign-in and the cleared cookie of logout carry the same attributes', async () => {
    const started = await startLogin(t);
    const back = await authorizeAtIdp(started, ALICE);
    const signedIn = await callback(t, back, started.loginCookie);
    const lines = setCookieLines(signedIn);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expectHostCookie(line);

    const session = cookieFrom(lines, SESSION_COOKIE) ?? '';
    const sid = JSON.parse(Buffer.from(session.split('.')[1] ?? '', 'base64url').toString()).sid as string;
    const logout = await t.http
      .post('/api/v1/login/logout')
      .set({ Cookie: session, Origin: TEST_ORIGIN, 'X-CSRF-Token': t.services.csrf.forSession(sid) });
    expect(logout.status).toBe(204);
    const cleared = setCookieLines(logout);
    expect(cleared).toHaveLength(1);
    expectHostCookie(cleared[0] ?? '');
    expect(cleared[0]).toMatch(/^__Host-gatehouse=;.*Max-Age=0/i);
  });
});

describe('C9 session fixation', () => {
  it('a session cookie the browser had before login (its own, or one planted by another user) is dead after login', async () => {
    const bob = await person(); // the attacker, whose session cookie is planted in alice's browser
    for (const previous of [aliceCookie, bob.cookie, '__Host-gatehouse=chosen-by-the-attacker']) {
      const started = await startLogin(t, { cookie: previous });
      const back = await authorizeAtIdp(started, ALICE);
      const response = await callback(t, back, `${started.loginCookie}; ${previous}`);
      expect(response.status, response.text).toBe(302);
      const fresh = cookieFrom(response.headers['set-cookie'], SESSION_COOKIE) ?? '';
      expect(fresh).not.toBe(previous);
      expectProblem(
        await t.http.get('/api/v1/me').set('Cookie', previous),
        401,
        previous.includes('chosen') ? 'TOKEN_INVALID' : 'TOKEN_REVOKED',
      );
      const me = await t.http.get('/api/v1/me').set('Cookie', fresh);
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(alice._id);
      const sid = (cookie: string) => JSON.parse(Buffer.from(cookie.split('.')[1] ?? '', 'base64url').toString()).sid;
      if (!previous.includes('chosen')) expect(sid(fresh)).not.toBe(sid(previous));
      if (previous === aliceCookie) aliceCookie = fresh;
    }
  });
});

describe('C10 an old cookie is refused', () => {
  it('after logout', async () => {
    const p = await person();
    expect((await t.http.post('/api/v1/login/logout').set(good(p))).status).toBe(204);
    expectProblem(await t.http.get('/api/v1/me').set('Cookie', p.cookie), 401, 'TOKEN_REVOKED');
    expectProblem(await t.http.post('/api/v1/me/sessions/revoke-others').set(good(p)), 401, 'TOKEN_REVOKED');
    expect((await t.http.get('/api/v1/me').set('Cookie', p.other.cookie)).status).toBe(200);
  });

  it('after "sign out everywhere else" from another session', async () => {
    const p = await person();
    const other = { ...p, cookie: p.other.cookie, csrf: t.services.csrf.forSession(p.other.sessionId) };
    const response = await t.http.post('/api/v1/me/sessions/revoke-others').set(good(other));
    expect(response.body).toEqual({ revoked: 1 });
    expectProblem(await t.http.get('/api/v1/me').set('Cookie', p.cookie), 401, 'TOKEN_REVOKED');
    expect((await t.http.get('/api/v1/me').set('Cookie', p.other.cookie)).status).toBe(200);
  });

  it('after an admin’s revoke-all (logout-all)', async () => {
    const p = await person();
    const adminCsrf = t.services.csrf.forSession(JSON.parse(Buffer.from(aliceCookie.split('.')[1] ?? '', 'base64url').toString()).sid);
    const response = await t.http
      .post(`/api/v1/users/${p.user._id}/sessions/revoke-all`)
      .set({ Cookie: aliceCookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': adminCsrf });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({ revoked: 2 });
    for (const cookie of [p.cookie, p.other.cookie])
      expectProblem(await t.http.get('/api/v1/me').set('Cookie', cookie), 401, 'TOKEN_REVOKED');
  });

  it('after the account is disabled (status in MongoDB, mirrored as the admin API will)', async () => {
    const p = await person();
    await t.db.collection<User>('users').updateOne({ _id: p.user._id }, { $set: { status: 'disabled' } });
    await t.services.revocation.userChanged(p.user._id, { tokenVersion: 0, status: 'disabled' });
    expectProblem(await t.http.get('/api/v1/me').set('Cookie', p.cookie), 401, 'TOKEN_ACCOUNT_DISABLED');
    expectProblem(await t.http.post('/api/v1/me/sessions/revoke-others').set(good(p)), 401, 'TOKEN_ACCOUNT_DISABLED');
  });
});

describe('C11 bearer clients and bearer-only routes', () => {
  it.each([['https://evil.example'], ['null']])(
    'an API token works with Origin: %s and no CSRF token (GET, POST, DELETE)',
    async (origin) => {
      const p = await person();
      const api = await issueApiToken(t, p.user);
      const bearer = { Authorization: `Bearer ${api.token}`, Origin: origin };
      expect((await t.http.get('/api/v1/me/sessions').set(bearer)).status).toBe(200);
      expect((await t.http.delete(`/api/v1/me/sessions/${p.other.sessionId}`).set(bearer)).status).toBe(204);
      const others = await t.http.post('/api/v1/me/sessions/revoke-others').set(bearer);
      expect(others.status, others.text).toBe(200);
      expect(others.body).toEqual({ revoked: 1 }); // the browser session; the token's own session stays
    },
  );

  it('a session cookie never authenticates POST /oauth/introspect (Basic only): 401 invalid_client', async () => {
    const p = await person();
    const token = p.cookie.split('=')[1] ?? '';
    const response = await t.http.post('/oauth/introspect').set(good(p)).type('form').send({ token });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: 'invalid_client' });
    expect(response.headers['www-authenticate']).toMatch(/^Basic/);
    const asBearer = await t.http.post('/oauth/introspect').set('Authorization', `Bearer ${token}`).type('form').send({ token });
    expect(asBearer.status).toBe(401);
  });

  it('a session cookie sent to /oauth/revoke (as the form token) revokes nothing', async () => {
    const p = await person();
    const response = await t.http
      .post('/oauth/revoke')
      .set('Cookie', p.cookie)
      .type('form')
      .send({ token: p.cookie.split('=')[1] ?? '' });
    expect(response.status).toBe(200);
    expect((await t.http.get('/api/v1/me').set('Cookie', p.cookie)).status).toBe(200);
  });
});

describe('C12 CORS', () => {
  function expectNoCors(response: Response): void {
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  }

  it('with no CORS origins configured, an arbitrary origin is never reflected (simple request and preflight)', async () => {
    for (const origin of ['https://evil.example', TEST_ORIGIN, 'null']) {
      expectNoCors(await t.http.get('/api/v1/me').set({ Origin: origin, Cookie: aliceCookie }));
      expectNoCors(
        await t.http
          .options('/api/v1/me/sessions/revoke-others')
          .set({ Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-csrf-token' }),
      );
    }
  });

  it('with configured origins, only those are allowed and never with credentials', async () => {
    const cors = watch.track(await createTestApp({ CORS_ORIGINS: 'https://app.example' }));
    const allowed = await cors.http.get('/.well-known/jwks.json').set('Origin', 'https://app.example');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
    const preflight = await cors.http
      .options('/api/v1/me/sessions')
      .set({ Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' });
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
    for (const origin of [
      'https://evil.example',
      'https://app.example.evil.com',
      'https://evil.example/https://app.example',
      'http://app.example',
      'null',
    ]) {
      expectNoCors(await cors.http.get('/.well-known/jwks.json').set('Origin', origin));
    }
  });

  it('a wildcard is refused in production, warned about elsewhere, and never combined with credentials', async () => {
    const base = { MASTER_KEY: TEST_MASTER_KEY, CORS_ORIGINS: '*' };
    const production = { ...base, NODE_ENV: 'production', PUBLIC_URL: 'https://id.example.com' };
    expect(() => loadConfig(production)).toThrow(ConfigError);
    try {
      loadConfig(production);
    } catch (error) {
      expect((error as ConfigError).variable).toBe('CORS_ORIGINS');
    }
    expect(loadConfig({ ...base, NODE_ENV: 'development', PUBLIC_URL: 'http://localhost:3000' }).warnings.join('\n')).toMatch(
      /CORS_ORIGINS/,
    );

    const wildcard = watch.track(await createTestApp({ CORS_ORIGINS: '*' }));
    const response = await wildcard.http.get('/api/v1/me').set({ Origin: 'https://evil.example', Cookie: aliceCookie });
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  });
});

describe('after all of the above', () => {
  it('the process still serves and no cookie or CSRF token reached the logs', async () => {
    expect((await t.http.get('/api/v1/me').set('Cookie', aliceCookie)).status).toBe(200);
    watch.expectNoSecretInLogs();
  });
});
