// The browser's password sign-in: plain forms, redirects and server-rendered pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { codeAt, localUser } from '../../test/local-auth-support.js';
import { cookieFrom } from '../../test/sign-in.js';
import { rememberSecret } from '../../test/suite-audit.js';

const PASSWORD = 'owner page password 12';
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const post = (path: string, body: Record<string, string>, cookies: string[] = []) =>
  t.http.post(path).set('Origin', TEST_ORIGIN).set('Cookie', cookies.join('; ')).type('form').send(body);

describe('password sign-in pages', () => {
  it('shows the password form beside the SSO buttons, and not when LOCAL_LOGIN=off', async () => {
    const page = await t.http.get('/sign-in');
    expect(page.text).toContain('action="/sign-in/password"');
    expect(page.text).toContain('Continue with Development IdP');
    const off = await createTestApp({ LOCAL_LOGIN: 'off' });
    try {
      expect((await off.http.get('/sign-in')).text).not.toContain('/sign-in/password');
      expect(
        (await off.http.post('/sign-in/password').set('Origin', TEST_ORIGIN).type('form').send({ email: 'a@b.c', password: 'x' })).status,
      ).toBe(403);
    } finally {
      await off.close();
    }
  });

  it('sends a wrong password back with a plain-words banner', async () => {
    const response = await post('/sign-in/password', { email: 'nobody@example.com', password: 'not a password' });
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/sign-in?error=CREDENTIALS_INVALID');
    expect((await t.http.get(response.headers.location ?? '')).text).toContain('The email or password is wrong.');
  });

  it('walks an owner through enrolment (QR code as a data: image under the CSP) and then the code step', async () => {
    await localUser(t, 'page-owner@example.com', PASSWORD);
    const first = await post('/sign-in/password', { email: 'page-owner@example.com', password: PASSWORD });
    expect(first.status, first.text).toBe(303);
    expect(first.headers.location).toBe('/sign-in/totp');
    const cookies = ['__Host-gatehouse-login', '__Host-gatehouse-2fa'].map((name) => cookieFrom(first.headers['set-cookie'], name) ?? '');
    expect(cookieFrom(first.headers['set-cookie'], '__Host-gatehouse')).toBeNull();
    const page = await t.http.get('/sign-in/totp').set('Cookie', cookies.join('; '));
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<img[^>]+src="data:image\/svg\+xml;base64,/);
    expect(page.headers['content-security-policy']).toMatch(/img-src 'self' data:/);
    expect(page.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
    const secret = /data-totp-secret="?[^>]*>([A-Z2-7]+)</.exec(page.text)?.[1] ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    rememberSecret('page TOTP secret', secret);

    const wrong = await post('/sign-in/totp', { code: '000000' }, cookies);
    expect(wrong.headers.location).toBe('/sign-in/totp?error=TOTP_INVALID');
    // Showing the page again changes nothing (no state-changing GET, C7): the same secret.
    const again = await t.http.get('/sign-in/totp').set('Cookie', cookies.join('; '));
    const fresh = /data-totp-secret="?[^>]*>([A-Z2-7]+)</.exec(again.text)?.[1] ?? '';
    expect(fresh).toBe(secret);
    const done = await post('/sign-in/totp', { code: codeAt(fresh, t.clock.now().getTime()) }, cookies);
    expect(done.status, done.text).toBe(200);
    expect(done.text).toContain('Save your recovery codes');
    for (const code of done.text.match(/[a-z2-9]{5}-[a-z2-9]{5}/g) ?? []) rememberSecret('a recovery code', code);
    const session = cookieFrom(done.headers['set-cookie'], '__Host-gatehouse') ?? '';
    expect((await t.http.get('/account').set('Cookie', session)).status).toBe(200);
    // The pending step is spent: the same cookies cannot open a second session.
    const replay = await post('/sign-in/totp', { code: codeAt(fresh, t.clock.now().getTime()) }, cookies);
    expect(replay.headers.location).toBe('/sign-in?error=LOGIN_STATE_INVALID');
  });
});
