// An unknown path opened in a browser gets the styled error page; API clients keep problem
// details (issue #13, item 3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/harness.js';
import { expectErrorPage, expectProblem } from '../../test/http-checks.js';
import { ALICE, authorizeAtIdp, callback, signedInUserId, startLogin } from '../../test/sign-in.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('an unknown path', () => {
  it('opened by a browser: the styled 404 page, under the strict CSP, with a way back', async () => {
    const response = await t.http.get('/no/such/page').set('Accept', BROWSER_ACCEPT);
    expectErrorPage(response, 404, 'NOT_FOUND');
    expect(response.text).toContain('<link rel="stylesheet"');
    expect(response.text).toMatch(/href="\/(account|sign-in)?"/);
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.text).not.toContain('application/problem+json');
  });

  it('asked for by an API client (no Accept, JSON, or anything at all): problem details', async () => {
    for (const accept of [undefined, 'application/json', '*/*']) {
      const request = t.http.get('/no/such/page');
      expectProblem(await (accept ? request.set('Accept', accept) : request), 404, 'NOT_FOUND');
    }
  });

  it('under the API prefixes, and for other methods: problem details even for a browser', async () => {
    for (const path of ['/api/v1/nope', '/oauth/nope', '/.well-known/nope', '/ssf/nope']) {
      expectProblem(await t.http.get(path).set('Accept', BROWSER_ACCEPT), 404, 'NOT_FOUND');
    }
    expect((await t.http.post('/no/such/page').set('Accept', BROWSER_ACCEPT)).headers['content-type']).toMatch(/problem\+json/);
  });
});

describe('SUPPORT_CONTACT on refusal pages', () => {
  it('a disabled person is told whom to contact; other errors do not name it', async () => {
    const app = await createTestApp({ SUPPORT_CONTACT: 'it-help@example.com' });
    try {
      const first = await startLogin(app);
      const userId = await signedInUserId(app, await callback(app, await authorizeAtIdp(first, ALICE), first.loginCookie));
      await app.services.sessions.stopAccount(userId, 'admin_disable', { to: 'disabled' });
      const started = await startLogin(app);
      const refused = await callback(app, await authorizeAtIdp(started, ALICE), started.loginCookie);
      expectErrorPage(refused, 403, 'ACCOUNT_DISABLED');
      expect(refused.text).toContain('<a href="mailto:it-help@example.com">it-help@example.com</a>');
      const missing = await app.http.get('/no/such/page').set('Accept', BROWSER_ACCEPT);
      expect(missing.text).not.toContain('it-help@example.com');
    } finally {
      await app.close();
    }
  });

  it('is not shown when unset', async () => {
    const page = await t.http.get('/no/such/page').set('Accept', BROWSER_ACCEPT);
    expect(page.text).not.toContain('contact');
  });
});
