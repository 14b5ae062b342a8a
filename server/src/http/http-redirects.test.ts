// docs/security-tests.md N7: open redirects through `return_to`. The login start must redirect only to the
// IdP's authorization endpoint (with our own callback as redirect_uri), and the return path it
// stores — what the callback later redirects to — must be a same-origin path or nothing. The
// sign-in page's links must carry only safe paths. (The redirect after the callback itself is
// covered in the OIDC suites; one end-to-end case here shows what a bad stored path becomes.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/harness.js';
import { expectProblem, SecretWatch } from '../../test/http-checks.js';
import { ALICE, authorizeAtIdp, callback, cookieFrom, startLogin } from '../../test/sign-in.js';
import { sha256 } from '../crypto/index.js';

const watch = new SecretWatch();
afterAll(() => watch.closeAll());

let t: TestApp;
beforeAll(async () => {
  t = watch.track(await createTestApp());
});

/** A path a browser resolves on our origin: starts with one `/`, no `\`, no control characters. */
function isSafePath(value: string): boolean {
  if (!value.startsWith('/') || value.startsWith('//') || /[\\\u0000-\u001F\u007F]/.test(value)) return false;
  return new URL(value, t.config.publicOrigin).origin === t.config.publicOrigin;
}

/** Values a browser (or a lax parser) would take off-origin, each as the decoded parameter value. */
const HOSTILE: [string][] = [
  ['//evil.example'],
  ['//evil.example/account'],
  ['///evil.example'],
  ['/\\evil.example'],
  ['\\\\evil.example'],
  ['/\\/evil.example'],
  ['https:evil.example'],
  ['https://evil.example'],
  ['HTTPS://evil.example'],
  ['http://127.0.0.1:4555@evil.example'],
  ['javascript:alert(1)'],
  ['JaVaScRiPt:alert(1)'],
  [' javascript:alert(1)'],
  ['data:text/html,<script>alert(1)</script>'],
  ['evil.example'],
  ['%2F%2Fevil.example'],
  ['%252F%252Fevil.example'],
  ['/%2F/evil.example'],
  ['/%5Cevil.example'],
  ['%5C%5Cevil.example'],
  ['/\t/evil.example'],
  ['/%09/evil.example'],
  ['/\u3002/evil.example'],
  // Dot segments collapse when the path is resolved: "/.//x" becomes "//x".
  ['/.//evil.example'],
  ['/..//evil.example'],
  ['/%2e%2e//evil.example'],
  ['/account/../..//evil.example'],
];

async function storedReturnPath(state: string): Promise<string | null> {
  const saved = JSON.parse((await t.redis.get(`oidc:state:${sha256(state)}`)) ?? 'null') as { returnTo: string | null } | null;
  if (!saved) throw new Error('no saved login state');
  return saved.returnTo;
}

describe('N7 open redirect through return_to at the login start', () => {
  it.each(HOSTILE)('N7 login with return_to %j redirects only to the IdP and stores no off-origin path', async (value) => {
    const started = await startLogin(t, { returnTo: value });
    const issuer = new URL(t.config.providers[0]?.issuer ?? '');
    expect(started.location.origin).toBe(issuer.origin);
    expect(started.location.searchParams.get('redirect_uri')).toBe(`${t.config.publicOrigin}/auth/dev/callback`);
    expect(started.location.href).not.toContain('evil.example');
    const stored = await storedReturnPath(started.state);
    expect(stored === null || isSafePath(stored), `stored return path ${JSON.stringify(stored)}`).toBe(true);
  });

  it.each([['/account'], ['/account?tab=sessions#recent'], ['/pair?code=ABCD-EFGH'], ['/@evil.example']])(
    'N7 login with the same-origin path %j keeps it',
    async (value) => {
      const started = await startLogin(t, { returnTo: value });
      expect(await storedReturnPath(started.state)).toBe(value);
    },
  );

  it('N7 an over-long return_to is refused with 400 VALIDATION_FAILED, no redirect', async () => {
    const response = await t.http
      .get(`/auth/dev/login?return_to=${encodeURIComponent(`/${'a'.repeat(600)}`)}`)
      .set('Accept', 'application/json');
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(response.headers.location).toBeUndefined();
  });

  it.each([['/.//evil.example'], ['//evil.example'], ['/%2e%2e//evil.example']])(
    'N7 a whole sign-in started with return_to %j lands on this origin',
    async (value) => {
      const started = await startLogin(t, { returnTo: value });
      const back = await authorizeAtIdp(started, ALICE);
      const response = await callback(t, back, started.loginCookie);
      expect(response.status).toBe(302);
      watch.add('session cookie', cookieFrom(response.headers['set-cookie'], '__Host-gatehouse') ?? '');
      const location = response.headers.location ?? '';
      expect(isSafePath(location), `Location: ${location}`).toBe(true);
    },
  );
});

describe("N7 the sign-in page's links", () => {
  /** Every href on the page, and the return_to each provider link carries. */
  async function linksOf(returnTo: string) {
    const page = await t.http.get(`/sign-in?return_to=${encodeURIComponent(returnTo)}`);
    expect(page.status).toBe(200);
    const hrefs = [...page.text.matchAll(/href="([^"]*)"/g)].map((match) => (match[1] ?? '').replaceAll('&amp;', '&'));
    expect(hrefs.length).toBeGreaterThan(0);
    return hrefs;
  }

  it.each(HOSTILE)('N7 /sign-in?return_to=%j links only to same-origin paths carrying a safe return_to', async (value) => {
    for (const href of await linksOf(value)) {
      expect(isSafePath(href), `href ${href}`).toBe(true);
      const carried = new URL(href, t.config.publicOrigin).searchParams.get('return_to');
      expect(carried === null || isSafePath(carried), `link ${href} carries ${carried}`).toBe(true);
    }
  });

  it('N7 a safe return_to is kept on the provider links', async () => {
    const links = await linksOf('/account?tab=sessions');
    expect(links).toContain('/auth/dev/login?return_to=%2Faccount%3Ftab%3Dsessions');
  });
});

it('keeps every secret of this file (cookies, bootstrap password, master key) out of the logs', () => {
  watch.expectNoSecretInLogs();
});
