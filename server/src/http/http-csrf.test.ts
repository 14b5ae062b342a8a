// docs/security-tests.md C1–C6 on the cookie-authenticated sign-out (the form POST /auth/logout and its
// JSON twin POST /api/v1/login/logout), C8 (the cookie is cleared with the same attributes) and
// C9 (session fixation: a cookie from before sign-in is dead afterwards; every sign-in gets a
// fresh sid). Every refusal leaves the session alive and clears no cookie.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/harness.js';
import { csrfTokenOf, expectProblem, SecretWatch, sessionAlive, sessionRecordOf } from '../../test/http-checks.js';
import { ALICE, authorizeAtIdp, BOB, callback, cookieFrom, signIn, startLogin } from '../../test/sign-in.js';

const watch = new SecretWatch();
afterAll(() => watch.closeAll());

let t: TestApp;
beforeAll(async () => {
  t = watch.track(await createTestApp());
});

const ORIGIN = 'http://127.0.0.1:4555';

/** A fresh signed-in ALICE (or BOB) with the CSRF token of that session. */
async function freshSession(user = ALICE) {
  const { sessionCookie } = await signIn(t, user);
  const csrf = await csrfTokenOf(t, sessionCookie);
  watch.add('session cookie', sessionCookie);
  watch.add('csrf token', csrf);
  return { cookie: sessionCookie, csrf };
}

function logoutForm(cookie: string, headers: Record<string, string>, body: string, contentType = 'application/x-www-form-urlencoded') {
  const request = t.http.post('/auth/logout').set('Cookie', cookie).set('Accept', 'application/json').set('Content-Type', contentType);
  for (const [name, value] of Object.entries(headers)) request.set(name, value);
  return request.send(body);
}

/** Refused: the code, the session still works and no cookie was cleared. */
async function expectRefusedKeepsSession(
  response: Awaited<ReturnType<typeof logoutForm>>,
  status: number,
  code: Parameters<typeof expectProblem>[2],
  cookie: string,
) {
  expectProblem(response, status, code);
  expect(response.headers['set-cookie']).toBeUndefined();
  expect(await sessionAlive(t, cookie)).toBe(true);
}

const LOOK_ALIKES: [string][] = [
  ['http://127.0.0.1:4555.evil.com'],
  ['http://evil.com/http://127.0.0.1:4555'],
  ['http://127.0.0.1:4555@evil.com'],
  ['http://evil.com#http://127.0.0.1:4555'],
  ['http://127.0.0.1:4556'],
  ['http://127.0.0.1'],
  ['https://127.0.0.1:4555'],
  ['http://127.0.0.1.:4555'],
  ['http://127.0.0.1:4555.'],
  ['http://localhost:4555'],
  ['http://[::ffff:127.0.0.1]:4555'],
  ['HTTP://127.0.0.1:4555/'],
  [`${ORIGIN}, https://evil.example`],
];

describe('C1–C5 origin checks on the sign-out form', () => {
  it.each([
    ['a form', 'application/x-www-form-urlencoded', (csrf: string) => `csrf=${csrf}`],
    ['text/plain', 'text/plain', (csrf: string) => `csrf=${csrf}`],
    ['JSON', 'application/json', (csrf: string) => JSON.stringify({ csrf })],
  ])('C1 a cross-site POST (%s) with a valid cookie and token is refused with 403 ORIGIN_REJECTED', async (_, contentType, body) => {
    const { cookie, csrf } = await freshSession();
    const response = await logoutForm(cookie, { Origin: 'https://evil.example' }, body(csrf), contentType);
    await expectRefusedKeepsSession(response, 403, 'ORIGIN_REJECTED', cookie);
  });

  it('C1 the JSON sign-out endpoint refuses a cross-site POST with a valid cookie and CSRF header', async () => {
    const { cookie, csrf } = await freshSession();
    const response = await t.http
      .post('/api/v1/login/logout')
      .set('Cookie', cookie)
      .set('Origin', 'https://evil.example')
      .set('X-CSRF-Token', csrf);
    await expectRefusedKeepsSession(response, 403, 'ORIGIN_REJECTED', cookie);
  });

  it('C2 `Origin: null` is refused, even with a same-origin Referer', async () => {
    const { cookie, csrf } = await freshSession();
    await expectRefusedKeepsSession(await logoutForm(cookie, { Origin: 'null' }, `csrf=${csrf}`), 403, 'ORIGIN_REJECTED', cookie);
    await expectRefusedKeepsSession(
      await logoutForm(cookie, { Origin: 'null', Referer: `${ORIGIN}/account` }, `csrf=${csrf}`),
      403,
      'ORIGIN_REJECTED',
      cookie,
    );
  });

  it('C3 neither Origin nor Referer on an unsafe method is refused', async () => {
    const { cookie, csrf } = await freshSession();
    await expectRefusedKeepsSession(await logoutForm(cookie, {}, `csrf=${csrf}`), 403, 'ORIGIN_REJECTED', cookie);
  });

  it('C4 without Origin, a same-origin Referer is accepted: signed out with 303', async () => {
    const { cookie, csrf } = await freshSession();
    const response = await logoutForm(cookie, { Referer: `${ORIGIN}/account?tab=sessions` }, `csrf=${csrf}`);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/sign-in?notice=signed-out');
    expect(await sessionAlive(t, cookie)).toBe(false);
  });

  it.each([['https://evil.example/account'], ['not a url'], [`${ORIGIN}.evil.com/account`], ['/account']])(
    'C4 without Origin, the Referer %s is refused',
    async (referer) => {
      const { cookie, csrf } = await freshSession();
      await expectRefusedKeepsSession(await logoutForm(cookie, { Referer: referer }, `csrf=${csrf}`), 403, 'ORIGIN_REJECTED', cookie);
    },
  );

  it.each(LOOK_ALIKES)('C5 the look-alike Origin %s is refused', async (origin) => {
    const { cookie, csrf } = await freshSession();
    await expectRefusedKeepsSession(await logoutForm(cookie, { Origin: origin }, `csrf=${csrf}`), 403, 'ORIGIN_REJECTED', cookie);
  });

  // As a Referer only the URL's origin counts, so the list differs: `127.0.0.1.` is the same
  // IPv4 host once parsed (a domain's trailing dot is covered in src/http/origin.test.ts).
  it.each([
    ['http://127.0.0.1:4555.evil.com/account'],
    ['http://evil.com/http://127.0.0.1:4555/account'],
    ['http://127.0.0.1:4555@evil.com/account'],
    ['http://evil.com/account#http://127.0.0.1:4555'],
    ['http://evil.com/account?http://127.0.0.1:4555'],
    ['http://127.0.0.1:4556/account'],
    ['https://127.0.0.1:4555/account'],
    ['http://localhost:4555/account'],
    ['javascript:alert(1)//http://127.0.0.1:4555'],
  ])('C5 the look-alike Referer %s (no Origin) is refused', async (referer) => {
    const { cookie, csrf } = await freshSession();
    await expectRefusedKeepsSession(await logoutForm(cookie, { Referer: referer }, `csrf=${csrf}`), 403, 'ORIGIN_REJECTED', cookie);
  });

  it('C1–C5 the same-origin form with the right token signs out', async () => {
    const { cookie, csrf } = await freshSession();
    const response = await logoutForm(cookie, { Origin: ORIGIN }, `csrf=${csrf}`);
    expect(response.status).toBe(303);
    expect(await sessionAlive(t, cookie)).toBe(false);
  });
});

describe('C6 the CSRF token is bound to the session', () => {
  it('C6 a missing csrf field is refused with 400 VALIDATION_FAILED', async () => {
    const { cookie } = await freshSession();
    await expectRefusedKeepsSession(await logoutForm(cookie, { Origin: ORIGIN }, ''), 400, 'VALIDATION_FAILED', cookie);
  });

  it.each([
    ['empty', () => ''],
    ['wrong', () => 'A'.repeat(43)],
    ['truncated', (csrf: string) => csrf.slice(0, -1)],
    ['one character changed', (csrf: string) => `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`],
    ['upper-cased', (csrf: string) => csrf.toUpperCase()],
  ])('C6 a %s token is refused with 403 CSRF_TOKEN_INVALID', async (_, mutate) => {
    const { cookie, csrf } = await freshSession();
    const forged = mutate(csrf);
    if (forged !== '' && forged === csrf) return; // nothing to change in this token
    await expectRefusedKeepsSession(
      await logoutForm(cookie, { Origin: ORIGIN }, `csrf=${encodeURIComponent(forged)}`),
      403,
      'CSRF_TOKEN_INVALID',
      cookie,
    );
  });

  it("C6 another user's token is refused", async () => {
    const alice = await freshSession(ALICE);
    const bob = await freshSession(BOB);
    await expectRefusedKeepsSession(
      await logoutForm(alice.cookie, { Origin: ORIGIN }, `csrf=${bob.csrf}`),
      403,
      'CSRF_TOKEN_INVALID',
      alice.cookie,
    );
  });

  it("C6 the token of the same user's other session is refused", async () => {
    const first = await freshSession(ALICE);
    const second = await freshSession(ALICE);
    await expectRefusedKeepsSession(
      await logoutForm(second.cookie, { Origin: ORIGIN }, `csrf=${first.csrf}`),
      403,
      'CSRF_TOKEN_INVALID',
      second.cookie,
    );
  });

  it('C6 a naive cookie == header/field pair planted by an attacker is refused', async () => {
    const { cookie } = await freshSession();
    const planted = 'attacker-chosen-csrf-value-0123456789abcdef';
    const response = await logoutForm(
      `${cookie}; csrf=${planted}; __Host-csrf=${planted}`,
      { Origin: ORIGIN, 'X-CSRF-Token': planted },
      `csrf=${planted}`,
    );
    await expectRefusedKeepsSession(response, 403, 'CSRF_TOKEN_INVALID', cookie);
  });

  it('C6 the JSON sign-out without X-CSRF-Token, or with a wrong one, is refused', async () => {
    const { cookie } = await freshSession();
    const missing = await t.http.post('/api/v1/login/logout').set('Cookie', cookie).set('Origin', ORIGIN);
    await expectRefusedKeepsSession(missing, 403, 'CSRF_TOKEN_INVALID', cookie);
    const wrong = await t.http.post('/api/v1/login/logout').set('Cookie', cookie).set('Origin', ORIGIN).set('X-CSRF-Token', 'A'.repeat(43));
    await expectRefusedKeepsSession(wrong, 403, 'CSRF_TOKEN_INVALID', cookie);
  });
});

describe('C8 cookie attributes on sign-out', () => {
  it('C8 sign-out clears the session cookie with __Host-, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, Max-Age=0', async () => {
    const { cookie, csrf } = await freshSession();
    const response = await logoutForm(cookie, { Origin: ORIGIN }, `csrf=${csrf}`);
    expect(response.status).toBe(303);
    const lines = [response.headers['set-cookie']].flat().filter(Boolean) as string[];
    const cleared = lines.find((line) => line.startsWith('__Host-gatehouse='));
    expect(cleared).toBeDefined();
    expect(cleared).toMatch(/^__Host-gatehouse=;/);
    expect(cleared).toMatch(/; Secure(;|$)/);
    expect(cleared).toMatch(/; HttpOnly(;|$)/);
    expect(cleared).toMatch(/; SameSite=Lax(;|$)/);
    expect(cleared).toMatch(/; Path=\/(;|$)/);
    expect(cleared).toMatch(/; Max-Age=0(;|$)/);
    expect(cleared).not.toMatch(/Domain=/i);
    for (const line of lines) expect(line).toMatch(/^__Host-/);
  });

  it('C8 the JSON sign-out clears the cookie the same way', async () => {
    const { cookie, csrf } = await freshSession();
    const response = await t.http.post('/api/v1/login/logout').set('Cookie', cookie).set('Origin', ORIGIN).set('X-CSRF-Token', csrf);
    expect(response.status).toBe(204);
    const cleared = [response.headers['set-cookie']].flat().find((line) => line?.startsWith('__Host-gatehouse='));
    expect(cleared).toBe('__Host-gatehouse=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0');
    expect(await sessionAlive(t, cookie)).toBe(false);
  });
});

describe('C9 session fixation', () => {
  /** A sign-in as `user` from a browser that already carries `cookieHeader`. */
  async function signInCarrying(cookieHeader: string, user = ALICE) {
    const started = await startLogin(t, { cookie: cookieHeader });
    const back = await authorizeAtIdp(started, user);
    const response = await callback(t, back, `${started.loginCookie}; ${cookieHeader}`);
    expect(response.status, response.text).toBe(302);
    const sessionCookie = cookieFrom(response.headers['set-cookie'], '__Host-gatehouse');
    if (!sessionCookie) throw new Error('no session cookie');
    watch.add('session cookie', sessionCookie);
    return sessionCookie;
  }

  it('C9 the session cookie a browser had before signing in is dead afterwards, and the new sid is fresh', async () => {
    const before = await freshSession(ALICE);
    const oldRecord = await sessionRecordOf(t, before.cookie);
    const after = await signInCarrying(before.cookie, ALICE);
    const newRecord = await sessionRecordOf(t, after);

    expect(newRecord._id).not.toBe(oldRecord._id);
    expect(await sessionAlive(t, before.cookie)).toBe(false);
    expect(await sessionAlive(t, after)).toBe(true);
    expect(await sessionRecordOf(t, before.cookie)).toMatchObject({ revokeReason: 'replaced' });
  });

  it("C9 a cookie planted by an attacker (the attacker's own session) is never adopted: the victim gets a new sid of their own", async () => {
    const attacker = await freshSession(BOB);
    const attackerRecord = await sessionRecordOf(t, attacker.cookie);
    const victim = await signInCarrying(attacker.cookie, ALICE);
    const victimRecord = await sessionRecordOf(t, victim);

    expect(victimRecord._id).not.toBe(attackerRecord._id);
    expect(victimRecord.userId).not.toBe(attackerRecord.userId);
    expect(await sessionAlive(t, attacker.cookie)).toBe(false);
    const page = await t.http.get('/account').set('Cookie', victim);
    expect(page.text).toContain('alice@example.com');
  });

  it('C9 an attacker-chosen cookie value is ignored: sign-in issues its own token', async () => {
    const planted = '__Host-gatehouse=attacker-chosen-session-id';
    const victim = await signInCarrying(planted, ALICE);
    expect(victim).not.toBe(planted);
    expect(victim).not.toContain('attacker-chosen');
    expect(await sessionAlive(t, victim)).toBe(true);
  });

  it('C9 every sign-in issues a new sid, also for the same user in the same browser', async () => {
    const sids = new Set<string>();
    let cookie = (await freshSession(ALICE)).cookie;
    sids.add((await sessionRecordOf(t, cookie))._id);
    for (let i = 0; i < 3; i++) {
      cookie = await signInCarrying(cookie, ALICE);
      sids.add((await sessionRecordOf(t, cookie))._id);
    }
    expect(sids.size).toBe(4);
  });
});

it('keeps every secret of this file (cookies, CSRF tokens, bootstrap password, master key) out of the logs', () => {
  watch.expectNoSecretInLogs();
});
