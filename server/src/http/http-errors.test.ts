// Errors on the wire (docs/security-tests.md general rule, docs/architecture.md "Routes"): unknown routes are
// 404 NOT_FOUND, a wrong method on a known route is 405 METHOD_NOT_ALLOWED, every error is
// problem details with the request id and nothing internal, and N11: method-override headers
// and TRACE are refused.
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_FIRST_RUN_PASSWORD, type TestApp } from '../../test/harness.js';
import { expectErrorPage, expectProblem, expectStillServing, SecretWatch, sessionAlive, signedInApp } from '../../test/http-checks.js';
import { ALICE, signIn } from '../../test/sign-in.js';
import { connectMongo } from '../store/index.js';
import { createHttpServer } from './index.js';

const watch = new SecretWatch();
afterAll(() => watch.closeAll());

let t: TestApp;
let alice: string;
let csrf: string;
beforeAll(async () => {
  ({ t, alice, csrf } = await signedInApp(watch));
});

describe('unknown routes and wrong methods', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', '/api/v1/nope'],
    ['POST', '/api/v1/nope'],
    ['DELETE', '/api/v1/users/1'],
    ['GET', '/auth/dev/nope'],
    ['GET', '/%2e%2e/%2e%2e/etc/passwd'],
    ['GET', '/assets/..%2f..%2fpackage.json'],
    ['GET', '/assets/app.css%00.js'],
    ['GET', `/${'a'.repeat(4000)}`],
  ])('an unknown route (%s %s) is 404 NOT_FOUND problem+json', async (method, path) => {
    const response = await t.http[method.toLowerCase() as 'get'](path);
    expectProblem(response, 404, 'NOT_FOUND');
  });

  it('an unknown provider is 404 PROVIDER_UNKNOWN', async () => {
    expectProblem(await t.http.get('/auth/nope/login').set('Accept', 'application/json'), 404, 'PROVIDER_UNKNOWN');
  });

  it.each([
    ['DELETE', '/sign-in'],
    ['POST', '/sign-in'],
    ['POST', '/account'],
    ['GET', '/api/v1/setup'],
    ['PUT', '/api/v1/setup'],
    ['PATCH', '/api/v1/setup'],
    ['DELETE', '/setup'],
    ['GET', '/auth/logout'],
    ['PUT', '/auth/logout'],
    ['POST', '/auth/dev/login'],
    ['POST', '/auth/dev/callback'],
    ['POST', '/healthz'],
    ['DELETE', '/readyz'],
  ])('a wrong method on a known route (%s %s) is 405 METHOD_NOT_ALLOWED', async (method, path) => {
    const response = await t.http[method.toLowerCase() as 'get'](path).set('Accept', 'application/json');
    expectProblem(response, 405, 'METHOD_NOT_ALLOWED');
  });

  it('GET /auth/logout signs nobody out (C7: no state-changing GET)', async () => {
    await t.http.get('/auth/logout').set('Cookie', alice);
    expect(await sessionAlive(t, alice)).toBe(true);
  });

  it('an error on a page a browser opens is an HTML page with the same request id as the header', async () => {
    const response = await t.http.get('/auth/nope/login').set('Accept', 'text/html');
    expectErrorPage(response, 404, 'PROVIDER_UNKNOWN');
    expect(response.headers['x-request-id']).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(response.text).toContain(`Reference: ${response.headers['x-request-id']}`);
  });

  it('an incoming X-Request-Id is not trusted: the response carries our own id', async () => {
    const response = await t.http.get('/nope').set('X-Request-Id', 'forged-id\u0085');
    expectProblem(response, 404, 'NOT_FOUND');
    expect(response.headers['x-request-id']).not.toContain('forged');
  });

  it('a validation failure lists the failing fields but never echoes values or internals', async () => {
    const response = await t.http
      .post('/api/v1/setup')
      .set('Authorization', `Bootstrap ${TEST_FIRST_RUN_PASSWORD}`)
      .send({ email: 'not-an-email-secret-value' });
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(response.body.errors).toEqual([{ path: 'email', message: 'Not a valid email address.' }]);
    expect(response.text).not.toContain('secret-value');
  });
});

describe('no driver message when the database is gone', () => {
  it('MongoDB closed under the app: 503 DEPENDENCY_UNAVAILABLE problem details, no driver text', async () => {
    const stackUrl = t.config.MONGODB_URL.replace(/\/[^/]*$/, '');
    const mongo = await connectMongo(`${stackUrl}/t_down_${Date.now()}`, 500);
    const down = watch.track(await createTestApp({ MONGODB_TIMEOUT_MS: '500' }, { mongo }));
    const { sessionCookie } = await signIn(down, ALICE);
    watch.add('session cookie', sessionCookie);
    await mongo.db.dropDatabase();
    await mongo.client.close();

    const setup = await down.http
      .post('/api/v1/setup')
      .set('Authorization', `Bootstrap ${TEST_FIRST_RUN_PASSWORD}`)
      .send({ email: 'owner@example.com' });
    expect(setup.status).toBe(503);
    expect(setup.body).toMatchObject({ status: 503, code: 'DEPENDENCY_UNAVAILABLE', requestId: setup.headers['x-request-id'] });
    expect(setup.text).not.toMatch(/Mongo|Topology|closed|ferret|postgres|\bat /i);

    const account = await down.http.get('/account').set('Cookie', sessionCookie).set('Accept', 'application/json');
    expect(account.status).toBe(503);
    expect(account.body.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(account.text).not.toMatch(/Mongo|Topology|closed|ferret|postgres|\bat /i);

    // The process is up and says so: liveness fine, readiness reports the store.
    expect((await down.http.get('/healthz')).status).toBe(200);
    const ready = await down.http.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toEqual({ redis: 'ok', mongodb: 'fail' });
  });
});

describe('N11 method override and TRACE', () => {
  const OVERRIDES = [
    ['X-HTTP-Method-Override', 'DELETE'],
    ['X-HTTP-Method', 'PUT'],
    ['X-Method-Override', 'POST'],
    ['x-http-method-override', 'GET'],
  ];

  it.each(OVERRIDES)('N11 GET /sign-in with %s: %s is refused with 400 METHOD_OVERRIDE_REFUSED', async (header, value) => {
    const response = await t.http.get('/sign-in').set(header, value).set('Accept', 'application/json');
    expectProblem(response, 400, 'METHOD_OVERRIDE_REFUSED');
  });

  it.each(OVERRIDES)('N11 the sign-out form with %s: %s is refused and the session survives', async (header, value) => {
    const response = await t.http
      .post('/auth/logout')
      .set('Cookie', alice)
      .set('Origin', t.config.publicOrigin)
      .set('Accept', 'application/json')
      .set(header, value)
      .type('form')
      .send({ csrf });
    expectProblem(response, 400, 'METHOD_OVERRIDE_REFUSED');
    expect(await sessionAlive(t, alice)).toBe(true);
  });

  it.each(OVERRIDES)('N11 POST /api/v1/setup with %s: %s is refused before anything is written', async (header, value) => {
    const response = await t.http
      .post('/api/v1/setup')
      .set('Authorization', `Bootstrap ${TEST_FIRST_RUN_PASSWORD}`)
      .set(header, value)
      .send({ email: 'owner@example.com' });
    expectProblem(response, 400, 'METHOD_OVERRIDE_REFUSED');
    expect(await t.db.collection('system').countDocuments({})).toBe(0);
  });

  it.each([['/'], ['/sign-in'], ['/account'], ['/api/v1/setup'], ['/nope']])(
    'N11 TRACE %s is 405 METHOD_NOT_ALLOWED and echoes nothing of the request',
    async (path) => {
      const response = await t.http.trace(path).set('Cookie', alice).set('X-Secret-Header', 'echo-me');
      expectProblem(response, 405, 'METHOD_NOT_ALLOWED');
      expect(response.text).not.toContain('echo-me');
      expect(response.text).not.toContain(alice.split('=')[1] ?? alice);
    },
  );

  it.each([['TRACK'], ['CONNECT']])('N11 %s never reaches the app: refused by the HTTP server, which keeps serving', async (method) => {
    const server = createHttpServer(t.callback);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as { port: number }).port;
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      socket.write(`${method} ${method === 'CONNECT' ? '127.0.0.1:22' : '/'} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      await once(socket, 'close');
      // Node's parser answers 400 to TRACK and drops a CONNECT nobody listens for.
      expect(answer === '' || /^HTTP\/1\.1 4\d\d /.test(answer), answer).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('N11 after all of that the process still serves', async () => {
    await expectStillServing(t);
  });
});

it('keeps every secret of this file (cookies, CSRF tokens, bootstrap password, master key) out of the logs', () => {
  watch.expectNoSecretInLogs();
});
