// Security headers on every response, whatever its status (strict CSP without 'unsafe-inline',
// frame-ancestors 'none', nosniff, Referrer-Policy), HSTS only over https, and docs/security-tests.md C12:
// CORS never reflects an arbitrary origin and never allows credentials.
import type { Test } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_FIRST_RUN_PASSWORD, type TestApp } from '../../test/harness.js';
import { csrfTokenOf, SecretWatch } from '../../test/http-checks.js';
import { ALICE, signIn } from '../../test/sign-in.js';

const watch = new SecretWatch();
afterAll(() => watch.closeAll());

function expectSecurityHeaders(response: { status: number; headers: Record<string, string> }) {
  const csp = response.headers['content-security-policy'] ?? '';
  expect(csp, `no CSP on a ${response.status}`).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("base-uri 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(csp).toMatch(/script-src 'self'(;|$)/);
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  expect(csp).not.toMatch(/\*/);
  expect(response.headers['x-content-type-options']).toBe('nosniff');
  expect(response.headers['referrer-policy']).toBe('same-origin');
  expect(response.headers['x-frame-options']).toBeDefined();
  expect(response.headers['x-powered-by']).toBeUndefined();
}

describe('security headers on every response', () => {
  let t: TestApp;
  let limited: TestApp;
  let alice: string;
  let csrf: string;
  beforeAll(async () => {
    t = watch.track(await createTestApp({ BODY_LIMIT_BYTES: '1024' }));
    limited = watch.track(await createTestApp({ RATE_LIMIT_PER_MINUTE: '1' }));
    alice = (await signIn(t, ALICE)).sessionCookie;
    csrf = await csrfTokenOf(t, alice);
    watch.add('session cookie', alice);
    watch.add('csrf token', csrf);
  });

  const json = (request: Test) => request.set('Accept', 'application/json');
  const CASES: [string, number, (t: TestApp) => Test][] = [
    ['the sign-in page', 200, (t) => t.http.get('/sign-in')],
    ['the account page', 200, (t) => t.http.get('/account').set('Cookie', alice)],
    ['the setup page', 200, (t) => t.http.get('/setup')],
    ['the stylesheet', 200, (t) => t.http.get('/assets/app.css')],
    ['/healthz', 200, (t) => t.http.get('/healthz')],
    ['/readyz', 200, (t) => t.http.get('/readyz')],
    [
      'a CORS preflight from a foreign origin',
      200,
      (t) => t.http.options('/api/v1/setup').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST'),
    ],
    ['OPTIONS on a route', 200, (t) => t.http.options('/sign-in')],
    ['the start page redirect', 302, (t) => t.http.get('/')],
    ['the login redirect to the IdP', 302, (t) => t.http.get('/auth/dev/login')],
    ['a refused method override', 400, (t) => json(t.http.get('/sign-in').set('X-HTTP-Method-Override', 'DELETE'))],
    ['a duplicated parameter', 400, (t) => json(t.http.get('/sign-in?error=a&error=b'))],
    ['a malformed JSON body', 400, (t) => t.http.post('/api/v1/setup').set('Content-Type', 'application/json').send('{')],
    [
      'a wrong bootstrap password',
      401,
      (t) => t.http.post('/api/v1/setup').set('Authorization', 'Bootstrap wrong').send({ email: 'o@example.com' }),
    ],
    ['a cross-site form', 403, (t) => json(t.http.post('/auth/logout').set('Origin', 'https://evil.example').type('form').send('csrf=x'))],
    ['an HTML error page', 404, (t) => t.http.get('/auth/nope/login')],
    ['an unknown route', 404, (t) => t.http.get('/nope')],
    ['a wrong method', 405, (t) => t.http.delete('/sign-in')],
    ['TRACE', 405, (t) => t.http.trace('/')],
    [
      'a body over the limit',
      413,
      (t) =>
        t.http
          .post('/api/v1/setup')
          .set('Content-Type', 'application/json')
          .send(`{"a":"${'x'.repeat(4096)}"}`),
    ],
    ['a wrong content type', 415, (t) => t.http.post('/api/v1/setup').set('Content-Type', 'text/plain').send('x')],
  ];

  it.each(CASES)('%s (%i) carries the security headers', async (_, status, send) => {
    const response = await send(t);
    expect(response.status).toBe(status);
    expectSecurityHeaders(response);
  });

  it('a 429 carries the security headers', async () => {
    await limited.http.get('/sign-in');
    const response = await limited.http.get('/sign-in');
    expect(response.status).toBe(429);
    expectSecurityHeaders(response);
  });

  it('a 201 from setup carries the security headers', async () => {
    const response = await t.http
      .post('/api/v1/setup')
      .set('Authorization', `Bootstrap ${TEST_FIRST_RUN_PASSWORD}`)
      .send({ email: 'owner@example.com' });
    expect(response.status).toBe(201);
    expectSecurityHeaders(response);
  });

  it('a 303 from sign-out carries the security headers', async () => {
    const response = await t.http
      .post('/auth/logout')
      .set('Cookie', alice)
      .set('Origin', t.config.publicOrigin)
      .type('form')
      .send({ csrf });
    expect(response.status).toBe(303);
    expectSecurityHeaders(response);
  });

  it('no HSTS over plain http (it would pin localhost); HSTS with includeSubDomains when PUBLIC_URL is https', async () => {
    expect((await t.http.get('/sign-in')).headers['strict-transport-security']).toBeUndefined();
    const https = watch.track(await createTestApp({ PUBLIC_URL: 'https://gatehouse.example' }));
    const response = await https.http.get('/sign-in');
    expect(response.headers['strict-transport-security']).toMatch(/max-age=\d{7,}; includeSubDomains/);
    expectSecurityHeaders(response);
  });

  it('pages and errors are never cached: Cache-Control no-store', async () => {
    for (const response of [
      await t.http.get('/sign-in'),
      await t.http.get('/nope'),
      await t.http.get('/auth/dev/login'),
      await t.http.post('/api/v1/setup').set('Content-Type', 'text/plain').send('x'),
    ]) {
      expect(response.headers['cache-control']).toBe('no-store');
    }
  });
});

describe('C12 CORS', () => {
  const FOREIGN = [
    ['https://evil.example'],
    ['null'],
    ['http://127.0.0.1:4555.evil.com'],
    ['https://app.example.evil.com'],
    ['https://evil.com/https://app.example'],
    ['http://127.0.0.1:4555'],
  ];

  let plain: TestApp;
  let configured: TestApp;
  beforeAll(async () => {
    plain = watch.track(await createTestApp());
    configured = watch.track(await createTestApp({ CORS_ORIGINS: 'https://app.example' }));
  });

  const preflight = (t: TestApp, origin: string) =>
    t.http
      .options('/api/v1/setup')
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type');

  it.each(FOREIGN)('C12 without CORS_ORIGINS, Origin %s is never reflected and credentials never allowed', async (origin) => {
    for (const response of [
      await preflight(plain, origin),
      await plain.http.get('/healthz').set('Origin', origin),
      await plain.http.get('/nope').set('Origin', origin),
    ]) {
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('C12 with CORS_ORIGINS set, exactly that origin is allowed, without credentials', async () => {
    const response = await preflight(configured, 'https://app.example');
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    expect(response.headers['access-control-allow-methods']).toBeDefined();
    const simple = await configured.http.get('/healthz').set('Origin', 'https://app.example');
    expect(simple.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(simple.headers['access-control-allow-credentials']).toBeUndefined();
    expect(simple.headers.vary).toMatch(/Origin/);
  });

  it.each([
    ...FOREIGN,
    ['https://app.example.'],
    ['https://app.example:443.evil.com'],
    ['http://app.example'],
    ['https://app.example:8443'],
    ['https://APP.example'],
    ['https://app.example@evil.com'],
    ['https://app.example, https://evil.example'],
  ])('C12 with CORS_ORIGINS set, the look-alike Origin %s gets no CORS headers', async (origin) => {
    for (const response of [await preflight(configured, origin), await configured.http.get('/healthz').set('Origin', origin)]) {
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('C12 an error response to the allowed origin keeps its CORS header (so the client can read the code), still no credentials', async () => {
    const response = await configured.http
      .post('/api/v1/setup')
      .set('Origin', 'https://app.example')
      .set('Content-Type', 'text/plain')
      .send('x');
    expect(response.status).toBe(415);
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('C12 a wildcard outside production allows reads but never with credentials', async () => {
    const wildcard = watch.track(await createTestApp({ CORS_ORIGINS: '*' }));
    expect(wildcard.config.warnings.some((warning) => warning.startsWith('CORS_ORIGINS'))).toBe(true);
    const response = await wildcard.http.get('/healthz').set('Origin', 'https://evil.example');
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  });
});

it('keeps every secret of this file (cookies, CSRF tokens, bootstrap password, master key) out of the logs', () => {
  watch.expectNoSecretInLogs();
});
