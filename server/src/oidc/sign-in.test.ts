import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/harness.js';
import { ALICE, BOB, cookieFrom, signIn } from '../../test/sign-in.js';

describe('SSO sign-in through the development IdP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('signs a person in and shows their account with this session', async () => {
    const { sessionCookie, location } = await signIn(t, ALICE);
    expect(location).toBe('/account');
    const page = await t.http.get('/account').set('Cookie', sessionCookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Alice Admin');
    expect(page.text).toContain('alice@example.com');
    expect(page.text).toContain('This session');
    expect(page.text).toContain('Development IdP');
    expect(page.text).toMatch(/127\.0\.0\.1|::1|::ffff:127\.0\.0\.1/);

    const user = await t.db.collection('users').findOne({ email: 'alice@example.com' });
    expect(user?.roles).toEqual(['admin', 'user']);
    const audit = await t.db.collection('audit').findOne({ action: 'login.succeeded', actor: `user:${user?._id}` });
    expect(audit?.outcome).toBe('success');
  });

  it('maps groups to roles: bob is not an admin', async () => {
    await signIn(t, BOB);
    const user = await t.db.collection('users').findOne({ email: 'bob@example.com' });
    expect(user?.roles).toEqual(['user']);
  });

  it('finds the same account on the next sign-in and lists both sessions', async () => {
    const first = await signIn(t, BOB);
    const second = await signIn(t, BOB);
    expect(await t.db.collection('users').countDocuments({ email: 'bob@example.com' })).toBe(1);
    const page = await t.http.get('/account').set('Cookie', second.sessionCookie);
    expect(page.text.match(/data-session-id=/g)?.length).toBeGreaterThanOrEqual(2);
    expect(first.sessionCookie).not.toBe(second.sessionCookie);
  });

  it('sets the session cookie with __Host-, Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain (C8)', async () => {
    const { signInAtDevIdp } = await import('../../../scripts/dev-idp/index.mjs');
    const login = await t.http.get('/auth/dev/login');
    const loginSetCookie = [login.headers['set-cookie']].flat().join('\n');
    const loginCookie = cookieFrom(login.headers['set-cookie'], '__Host-gatehouse-login') ?? '';
    const back = new URL(await signInAtDevIdp(login.headers.location ?? '', ALICE));
    const response = await t.http.get(back.pathname + back.search).set('Cookie', loginCookie);
    const setCookies = [response.headers['set-cookie']].flat().filter(Boolean) as string[];
    for (const line of [...setCookies, loginSetCookie]) {
      expect(line).toMatch(/^__Host-/);
      expect(line).toMatch(/; Secure/);
      expect(line).toMatch(/; HttpOnly/);
      expect(line).toMatch(/; SameSite=Lax/);
      expect(line).toMatch(/; Path=\//);
      expect(line).not.toMatch(/Domain=/i);
    }
  });

  it('signs out: the cookie is dead afterwards and the session is gone from the list (C10)', async () => {
    const { sessionCookie } = await signIn(t, ALICE);
    const page = await t.http.get('/account').set('Cookie', sessionCookie);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const out = await t.http
      .post('/auth/logout')
      .set('Cookie', sessionCookie)
      .set('Origin', t.config.publicOrigin)
      .type('form')
      .send({ csrf });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/sign-in?notice=signed-out');
    expect((await t.http.get('/sign-in?notice=signed-out')).text).toContain('You are signed out.');
    const after = await t.http.get('/account').set('Cookie', sessionCookie);
    expect(after.status).toBe(302);
    expect(after.headers.location).toBe('/sign-in?return_to=%2Faccount');
  });

  it('shows the providers on the sign-in page, with a plain-words error banner', async () => {
    const page = await t.http.get('/sign-in?error=ACCOUNT_DISABLED');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Continue with Development IdP');
    expect(page.text).toContain('This account has been disabled.');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.text).not.toMatch(/<script(?![^>]*src=)/);
  });
});
