// docs/security-tests.md N1 (MongoDB operator injection), N2 (prototype pollution) and N12 (parameter
// pollution) through every body and query field that exists today: the setup JSON body, the
// setup form, the login `return_to`, the callback `state`/`code` and the sign-out form `csrf`.
// General rule: refused with a 4xx and a stable code, nothing written, no session, still serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_FIRST_RUN_PASSWORD, type TestApp } from '../../test/harness.js';
import {
  expectErrorPage,
  expectNoInternals,
  expectProblem,
  expectStillServing,
  SecretWatch,
  sessionAlive,
  signedInApp,
} from '../../test/http-checks.js';
import { ALICE, signIn, startLogin } from '../../test/sign-in.js';
import { sha256 } from '../crypto/index.js';

const watch = new SecretWatch();
afterAll(() => watch.closeAll());

const BOOTSTRAP = `Bootstrap ${TEST_FIRST_RUN_PASSWORD}`;

/** Operator payloads as JSON values: each must be refused wherever a string is expected. */
const OPERATORS: [string, unknown][] = [
  ['{"$ne":null}', { $ne: null }],
  ['{"$gt":""}', { $gt: '' }],
  ['{"$regex":".*"}', { $regex: '.*' }],
  ['{"$where":"1"}', { $where: '1' }],
  ['{"$in":[…]}', { $in: ['alice@example.com'] }],
  ['an array', ['alice@example.com']],
  ['an array of operators', [{ $ne: null }]],
];

/** Operators in the bracket and dotted forms query and form strings use (`email[$ne]=x`). */
const BRACKETS = (field: string): [string][] => [
  [`${field}[$ne]=x`],
  [`${field}[$gt]=`],
  [`${field}[$regex]=.*`],
  [`${field}[$where]=1`],
  [`${field}[]=a`],
  [`${field}[0]=a`],
  [`${field}.$ne=x`],
  [`$where=1&${field}=x`],
];

function postSetupJson(t: TestApp, body: unknown) {
  return t.http
    .post('/api/v1/setup')
    .set('Authorization', BOOTSTRAP)
    .set('Content-Type', 'application/json')
    .send(typeof body === 'string' ? body : JSON.stringify(body));
}

function postSetupForm(t: TestApp, form: string) {
  return t.http.post('/setup').set('Origin', t.config.publicOrigin).type('form').send(form);
}

function postLogoutForm(t: TestApp, cookie: string, form: string) {
  return t.http
    .post('/auth/logout')
    .set('Cookie', cookie)
    .set('Origin', t.config.publicOrigin)
    .set('Accept', 'application/json')
    .type('form')
    .send(form);
}

/** Nothing was written by setup: no owner, no marker; the endpoint is still open. */
async function expectNoSetupWrite(t: TestApp) {
  expect(await t.db.collection('users').countDocuments({ roles: 'owner' })).toBe(0);
  expect(await t.db.collection('system').countDocuments({})).toBe(0);
}

async function loginStateKeys(t: TestApp): Promise<number> {
  return (await t.redis.keys(`${t.config.REDIS_KEY_PREFIX}oidc:state:*`)).length;
}

function expectNotPolluted() {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
  expect(Object.hasOwn(Object.prototype, 'isAdmin')).toBe(false);
}

describe('N1 operator injection in the setup JSON body', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = watch.track(await createTestApp());
  });

  it.each(OPERATORS)('N1 setup `email` = %s is refused with 400 VALIDATION_FAILED and no write', async (_, value) => {
    expectProblem(await postSetupJson(t, { email: value }), 400, 'VALIDATION_FAILED');
    await expectNoSetupWrite(t);
    await expectStillServing(t);
  });

  it.each(OPERATORS)('N1 setup `name` = %s is refused with 400 VALIDATION_FAILED and no write', async (_, value) => {
    expectProblem(await postSetupJson(t, { email: 'owner@example.com', name: value }), 400, 'VALIDATION_FAILED');
    await expectNoSetupWrite(t);
  });

  it.each([
    ['a top-level $where', { email: 'owner@example.com', $where: '1' }],
    ['a top-level $or', { $or: [{ email: 'owner@example.com' }] }],
    ['a $set smuggling roles', { email: 'owner@example.com', $set: { roles: ['owner'] } }],
    ['a dotted key', { email: 'owner@example.com', 'email.$ne': null }],
    ['a dotted roles key', { email: 'owner@example.com', 'roles.0': 'owner' }],
    ['an extra field (mass assignment)', { email: 'owner@example.com', roles: ['owner'], status: 'active' }],
    ['an array body', [{ email: 'owner@example.com' }]],
  ])('N1 setup body with %s is refused with 400 VALIDATION_FAILED and no write', async (_, body) => {
    expectProblem(await postSetupJson(t, body), 400, 'VALIDATION_FAILED');
    await expectNoSetupWrite(t);
  });

  it('N1 after every refused injection the process still serves and a plain setup still works', async () => {
    const response = await postSetupJson(t, { email: 'owner@example.com' });
    expect(response.status, response.text).toBe(201);
    expect(await t.db.collection('users').countDocuments({ roles: 'owner' })).toBe(1);
  });
});

describe('N1 operator injection in the setup form', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = watch.track(await createTestApp());
  });
  const password = encodeURIComponent(TEST_FIRST_RUN_PASSWORD);

  it.each(BRACKETS('email'))('N1 setup form `%s` is refused with 400 and no write', async (field) => {
    const response = await postSetupForm(t, `${field}&password=${password}`).set('Accept', 'application/json');
    expectProblem(response, 400, 'VALIDATION_FAILED');
    await expectNoSetupWrite(t);
  });

  it.each(BRACKETS('password'))('N1 setup form `%s` is refused with 400 and no write', async (field) => {
    const response = await postSetupForm(t, `email=owner%40example.com&${field}`).set('Accept', 'application/json');
    expectProblem(response, 400, 'VALIDATION_FAILED');
    await expectNoSetupWrite(t);
  });

  it.each([['{"$ne":null}'], ['{"$gt":""}'], ['{"$regex":".*"}']])(
    'N1 setup form email as the string %s is just an invalid address: 400 page, no write',
    async (value) => {
      const response = await postSetupForm(t, `email=${encodeURIComponent(value)}&password=${password}`);
      expect(response.status).toBe(400);
      expect(response.text).toContain('Not a valid email address.');
      expectNoInternals(response);
      await expectNoSetupWrite(t);
    },
  );

  it.each([['{"$ne":null}'], ['{"$gt":""}']])(
    'N1 setup form password as the string %s is a wrong password: 401 page, no write',
    async (value) => {
      const response = await postSetupForm(t, `email=owner%40example.com&password=${encodeURIComponent(value)}`);
      expectErrorPage(response, 401, 'SETUP_PASSWORD_INVALID');
      await expectNoSetupWrite(t);
      await expectStillServing(t);
    },
  );
});

describe('N1 operator injection in sign-in and sign-out parameters', () => {
  let t: TestApp;
  let alice: string;
  beforeAll(async () => {
    t = watch.track(await createTestApp());
    alice = (await signIn(t, ALICE)).sessionCookie;
    watch.add('session cookie', alice);
  });

  it.each(BRACKETS('return_to'))('N1 login `?%s` is refused with 400 VALIDATION_FAILED, no state stored', async (query) => {
    const before = await loginStateKeys(t);
    const response = await t.http.get(`/auth/dev/login?${query}`).set('Accept', 'application/json');
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(response.headers.location).toBeUndefined();
    expect(await loginStateKeys(t)).toBe(before);
    await expectStillServing(t);
  });

  it.each([['{"$ne":null}'], ['{"$gt":""}'], ['{"$where":"1"}']])(
    'N1 login return_to as the string %s is an inert value: the IdP redirect, stored return path null',
    async (value) => {
      const started = await startLogin(t, { returnTo: value });
      expect(started.location.origin).toBe(new URL(t.deps.config.providers[0]?.issuer ?? '').origin);
      const saved = JSON.parse((await t.redis.get(`oidc:state:${sha256(started.state)}`)) ?? '{}');
      expect(saved.returnTo).toBeNull();
    },
  );

  it.each([...BRACKETS('state'), ['state={"$ne":null}'], ['state={"$gt":""}'], ['state=.*']])(
    'N1 callback `?%s&code=x` is refused with 400 LOGIN_STATE_INVALID and no session',
    async (query) => {
      const started = await startLogin(t);
      const response = await t.http
        .get(`/auth/dev/callback?${query}&code=x`)
        .set('Cookie', started.loginCookie)
        .set('Accept', 'application/json');
      expectProblem(response, 400, 'LOGIN_STATE_INVALID');
      expect(response.headers['set-cookie']).toBeUndefined();
      // The real sign-in this browser started is untouched by the forged attempt.
      expect(await t.redis.exists(`oidc:state:${sha256(started.state)}`)).toBe(1);
    },
  );

  it.each([['code[$ne]=x'], ['code[$regex]=.*'], ['code[]=a'], ['code={"$ne":null}'], ['code={"$gt":""}']])(
    'N1 callback with a valid state and `%s` is refused with 400 LOGIN_REJECTED and no session',
    async (codeParam) => {
      const started = await startLogin(t);
      const sessionsBefore = await t.db.collection('sessions').countDocuments({});
      const response = await t.http
        .get(`/auth/dev/callback?state=${encodeURIComponent(started.state)}&${codeParam}`)
        .set('Cookie', started.loginCookie)
        .set('Accept', 'application/json');
      expectProblem(response, 400, 'LOGIN_REJECTED');
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(await t.db.collection('sessions').countDocuments({})).toBe(sessionsBefore);
    },
  );

  it.each(BRACKETS('csrf'))('N1 sign-out form `%s` is refused with 400 and the session survives', async (form) => {
    expectProblem(await postLogoutForm(t, alice, form), 400, 'VALIDATION_FAILED');
    expect(await sessionAlive(t, alice)).toBe(true);
  });

  it.each([['{"$ne":null}'], ['{"$gt":""}'], ['{"$regex":".*"}']])(
    'N1 sign-out form csrf as the string %s is a wrong token: 403 CSRF_TOKEN_INVALID, session survives',
    async (value) => {
      expectProblem(await postLogoutForm(t, alice, `csrf=${encodeURIComponent(value)}`), 403, 'CSRF_TOKEN_INVALID');
      expect(await sessionAlive(t, alice)).toBe(true);
    },
  );
});

describe('N2 prototype pollution', () => {
  let t: TestApp;
  let alice: string;
  let csrf: string;
  beforeAll(async () => {
    ({ t, alice, csrf } = await signedInApp(watch));
  });

  it.each([
    ['__proto__', '{"email":"owner@example.com","__proto__":{"polluted":"yes","isAdmin":true}}'],
    ['constructor.prototype', '{"email":"owner@example.com","constructor":{"prototype":{"polluted":"yes"}}}'],
    ['nested __proto__', '{"email":"owner@example.com","name":{"__proto__":{"polluted":"yes"}}}'],
    ['deeply nested __proto__', '{"email":"owner@example.com","x":{"y":{"__proto__":{"polluted":"yes"}}}}'],
    ['__proto__ as the email', '{"email":{"__proto__":{"polluted":"yes"}}}'],
  ])('N2 JSON body with %s is refused with 400 and leaves Object.prototype clean', async (_, body) => {
    expectProblem(await postSetupJson(t, body), 400, 'VALIDATION_FAILED');
    expectNotPolluted();
    await expectNoSetupWrite(t);
  });

  it.each([
    ['__proto__[polluted]=yes'],
    ['__proto__.polluted=yes'],
    ['__proto__=yes'],
    ['constructor[prototype][polluted]=yes'],
    ['constructor.prototype.polluted=yes'],
  ])('N2 form `%s` is refused by the setup form and the sign-out form, Object.prototype clean', async (form) => {
    const setup = await postSetupForm(t, `email=owner%40example.com&password=x&${form}`).set('Accept', 'application/json');
    expectProblem(setup, 400, 'VALIDATION_FAILED');
    const logout = await postLogoutForm(t, alice, `csrf=${csrf}&${form}`);
    expectProblem(logout, 400, 'VALIDATION_FAILED');
    expectNotPolluted();
    expect(await sessionAlive(t, alice)).toBe(true);
    await expectNoSetupWrite(t);
  });

  it.each([
    ['__proto__[polluted]=yes'],
    ['__proto__=yes'],
    ['constructor[prototype][polluted]=yes'],
    ['return_to=/account&__proto__[polluted]=yes'],
  ])('N2 login query `?%s` is refused with 400, Object.prototype clean', async (query) => {
    expectProblem(await t.http.get(`/auth/dev/login?${query}`).set('Accept', 'application/json'), 400, 'VALIDATION_FAILED');
    expectNotPolluted();
  });

  it.each([['__proto__[polluted]=yes'], ['constructor[prototype][polluted]=yes']])(
    'N2 callback query `?%s` (no state) is refused with 400, Object.prototype clean',
    async (query) => {
      const response = await t.http.get(`/auth/dev/callback?${query}`).set('Accept', 'application/json');
      expectProblem(response, 400, 'LOGIN_STATE_INVALID');
      expectNotPolluted();
    },
  );

  it('N2 the sign-in page ignores unknown parameters: `__proto__` changes nothing on the page or the prototype', async () => {
    const plain = await t.http.get('/sign-in?return_to=%2Faccount');
    const polluted = await t.http.get('/sign-in?return_to=%2Faccount&__proto__[polluted]=yes&constructor[prototype][polluted]=yes');
    expect(polluted.status).toBe(200);
    expect(polluted.text).toBe(plain.text);
    expectNotPolluted();
  });
});

describe('N1 and N2 in the session and token APIs', () => {
  let t: TestApp;
  let alice: string;
  let csrf: string;
  beforeAll(async () => {
    ({ t, alice, csrf } = await signedInApp(watch));
  });

  /** A cookie-authenticated JSON API call from our own page (origin + CSRF header). */
  const api = (method: 'get' | 'post' | 'delete', path: string) =>
    t.http[method](path).set('Cookie', alice).set('Origin', t.config.publicOrigin).set('X-CSRF-Token', csrf);

  it.each([...BRACKETS('cursor'), ...BRACKETS('limit'), ['cursor={"$ne":null}'], ['limit={"$gt":0}'], ['__proto__[polluted]=yes']])(
    'N1 GET /api/v1/me/sessions?%s is refused with 400 VALIDATION_FAILED',
    async (query) => {
      expectProblem(await api('get', `/api/v1/me/sessions?${query}`), 400, 'VALIDATION_FAILED');
      expectNotPolluted();
    },
  );

  it.each([
    ['{"$ne":null}', 400, 'VALIDATION_FAILED'],
    ['$ne', 400, 'VALIDATION_FAILED'],
    ['[$gt]=', 400, 'VALIDATION_FAILED'],
    ['.*', 400, 'VALIDATION_FAILED'],
    ['a.b.c.d.e.f.g.h', 400, 'VALIDATION_FAILED'],
    // Well-formed ids that name no session of this user.
    ['__proto__', 404, 'SESSION_NOT_FOUND'],
    ['constructor', 404, 'SESSION_NOT_FOUND'],
  ] as const)('N1 DELETE /api/v1/me/sessions/%s is refused with %i %s and revokes nothing', async (id, status, code) => {
    expectProblem(await api('delete', `/api/v1/me/sessions/${encodeURIComponent(id)}`), status, code);
    expect(await t.db.collection('sessions').countDocuments({ revokedAt: { $ne: null } })).toBe(0);
    expect(await sessionAlive(t, alice)).toBe(true);
  });

  const TOKEN = { name: 'ci', scopes: ['profile:read'], expiresInDays: 30 };
  it.each([
    ...OPERATORS.map(([label, value]): [string, unknown] => [`name = ${label}`, { ...TOKEN, name: value }]),
    ...OPERATORS.map(([label, value]): [string, unknown] => [`expiresInDays = ${label}`, { ...TOKEN, expiresInDays: value }]),
    ['scopes = [{"$ne":null}]', { ...TOKEN, scopes: [{ $ne: null }] }],
    ['scopes = {"$in":[…]}', { ...TOKEN, scopes: { $in: ['admin'] } }],
    ['an extra userId', { ...TOKEN, userId: 'someone-else' }],
    ['a $set key', { ...TOKEN, $set: { roles: ['owner'] } }],
  ])('N1 POST /api/v1/me/api-tokens with %s is refused with 400 and issues no token', async (_, body) => {
    expectProblem(await api('post', '/api/v1/me/api-tokens').send(body as object), 400, 'VALIDATION_FAILED');
    expect(await t.db.collection('sessions').countDocuments({ kind: 'api' })).toBe(0);
  });

  it.each([
    ['__proto__', `{"name":"ci","scopes":["profile:read"],"expiresInDays":30,"__proto__":{"polluted":"yes"}}`],
    ['constructor.prototype', `{"name":"ci","scopes":["profile:read"],"expiresInDays":30,"constructor":{"prototype":{"polluted":"yes"}}}`],
  ])('N2 POST /api/v1/me/api-tokens with %s is refused with 400, Object.prototype clean', async (_, body) => {
    const response = await api('post', '/api/v1/me/api-tokens').set('Content-Type', 'application/json').send(body);
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expectNotPolluted();
    expect(await t.db.collection('sessions').countDocuments({ kind: 'api' })).toBe(0);
  });

  it.each([...BRACKETS('token'), ['token=x&__proto__[polluted]=yes'], ['token=x&token=y']])(
    'N1 POST /oauth/revoke with `%s` is refused with an RFC 6749 400 invalid_request',
    async (form) => {
      const response = await t.http.post('/oauth/revoke').type('form').send(form);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: 'invalid_request' });
      expectNoInternals(response);
      expectNotPolluted();
      expect(await sessionAlive(t, alice)).toBe(true);
    },
  );

  it('N1 POST /oauth/revoke with an operator as a plain string is just an unknown token: 200, nothing revoked', async () => {
    const response = await t.http
      .post('/oauth/revoke')
      .type('form')
      .send(`token=${encodeURIComponent('{"$ne":null}')}`);
    expect(response.status).toBe(200);
    expect(await sessionAlive(t, alice)).toBe(true);
  });
});

describe('N12 duplicated parameters', () => {
  let t: TestApp;
  let alice: string;
  let csrf: string;
  beforeAll(async () => {
    ({ t, alice, csrf } = await signedInApp(watch));
  });

  it.each([
    ['/auth/dev/login?return_to=%2Fa&return_to=%2Fb'],
    ['/auth/dev/login?return_to=&return_to=%2Fb'],
    ['/auth/dev/login?return_to=%2Fa&%72eturn_to=%2Fb'],
    ['/auth/dev/callback?state=a&state=b&code=x'],
    ['/auth/dev/callback?state=a&code=x&code=y'],
    ['/auth/dev/callback?state=a&code=x&iss=a&iss=b'],
    ['/sign-in?error=ACCOUNT_DISABLED&error=LOGIN_FAILED'],
    ['/sign-in?return_to=%2Fa&return_to=%2F%2Fevil.example'],
  ])('N12 GET %s is refused with 400 PARAMETER_DUPLICATED', async (path) => {
    const response = await t.http.get(path).set('Accept', 'application/json');
    expectProblem(response, 400, 'PARAMETER_DUPLICATED');
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('N12 a duplicated `code` on a real callback is refused before the state is used', async () => {
    const started = await startLogin(t);
    const response = await t.http
      .get(`/auth/dev/callback?state=${encodeURIComponent(started.state)}&code=a&code=b`)
      .set('Cookie', started.loginCookie)
      .set('Accept', 'application/json');
    expectProblem(response, 400, 'PARAMETER_DUPLICATED');
    expect(await t.redis.exists(`oidc:state:${sha256(started.state)}`)).toBe(1);
  });

  it('N12 sign-out form with `csrf` twice (both valid) is refused with 400 and the session survives', async () => {
    expectProblem(await postLogoutForm(t, alice, `csrf=${csrf}&csrf=${csrf}`), 400, 'PARAMETER_DUPLICATED');
    expect(await sessionAlive(t, alice)).toBe(true);
  });

  it.each([
    ['email twice', 'email=owner%40example.com&email=evil%40example.com&password=x'],
    ['password twice', `email=owner%40example.com&password=x&password=${encodeURIComponent(TEST_FIRST_RUN_PASSWORD)}`],
  ])('N12 setup form with %s is refused with 400 and no write', async (_, form) => {
    expectProblem(await postSetupForm(t, form).set('Accept', 'application/json'), 400, 'PARAMETER_DUPLICATED');
    await expectNoSetupWrite(t);
    await expectStillServing(t);
  });
});

it('keeps every secret of this file (cookies, CSRF tokens, bootstrap password, master key) out of the logs', () => {
  watch.expectNoSecretInLogs();
});
