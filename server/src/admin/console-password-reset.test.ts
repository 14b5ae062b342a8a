// The console's password reset and the reset link's page (issue 12 items 1 and 3,
// docs/local-accounts.md "Account recovery"): docs/security-tests.md A4.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createUser, startBrowserSession, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { localUser, passwordStep } from '../../test/local-auth-support.js';
import { catcherSmtpUrl, linkIn, waitForMail } from '../../test/mail.js';
import { rememberSecret } from '../../test/suite-audit.js';

async function resetFromConsole(t: TestApp, adminCookie: string, userId: string) {
  const { principal } = await t.services.sessions.authenticate(adminCookie.replace(/^__Host-gatehouse=/, ''));
  return t.http
    .post(`/admin/users/${userId}/password-reset`)
    .set('Cookie', adminCookie)
    .set('Origin', TEST_ORIGIN)
    .type('form')
    .send({ csrf: t.services.csrf.forSession(principal.sessionId ?? '') });
}

function setPassword(t: TestApp, token: string, password: string) {
  return t.http.post('/reset-password').set('Origin', TEST_ORIGIN).type('form').send({ token, password });
}

describe('A4 the console resets a password; the mailed link sets a new one on its page', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ LOCAL_LOGIN: 'all', SMTP_URL: catcherSmtpUrl() });
  });
  afterAll(() => t.close());

  it('mails a single-use link; a refused password keeps it usable; the new password signs in', async () => {
    const admin = await createUser(t, { roles: ['admin', 'user'] });
    const { cookie } = await startBrowserSession(t, admin);
    const email = `forgetful-${Date.now()}@example.test`;
    const user = await localUser(t, email, 'the old password 123', ['user']);
    const page = await t.http.get(`/admin/users/${user._id}`).set('Cookie', cookie);
    expect(page.text).toContain('id="password-reset-form"');

    const reset = await resetFromConsole(t, cookie, user._id);
    expect(reset.status, reset.text).toBe(200);
    expect(reset.text).toContain('The reset link was mailed.');
    const token = linkIn(await waitForMail(email), '/reset-password').hash.slice(1);
    rememberSecret('a reset link token', token);
    expect((await passwordStep(t, { email, password: 'the old password 123' })).status).toBe(401);

    const weak = await setPassword(t, token, 'short');
    expect(weak.status).toBe(400);
    expect(weak.text).toContain('This password is not allowed');
    expect(weak.text).toContain(`value="${token}"`);
    const password = 'the brand new password 456';
    rememberSecret('a new password', password);
    const done = await setPassword(t, token, password);
    expect(done.status, done.text).toBe(303);
    expect(done.headers.location).toBe('/sign-in?notice=password-set');
    expect((await t.http.get('/sign-in?notice=password-set')).text).toContain('Your new password is set.');
    expect((await passwordStep(t, { email, password })).status).toBe(200);
    const again = await setPassword(t, token, 'yet another long password 7');
    expect(again.status).toBe(400);
    expect(again.text).toContain('This reset link is not valid');
    expect(again.text).not.toContain(token);
  });

  it('offers no reset of oneself, of an owner, or of an account without email', async () => {
    const admin = await createUser(t, { roles: ['admin', 'user'] });
    const { cookie } = await startBrowserSession(t, admin);
    const owner = await localUser(t, `owner-${Date.now()}@example.test`, 'owner password 12345');
    const noEmail = await createUser(t);
    for (const id of [admin._id, owner._id, noEmail._id]) {
      expect((await t.http.get(`/admin/users/${id}`).set('Cookie', cookie)).text, id).not.toContain('id="password-reset-form"');
    }
    expect((await resetFromConsole(t, cookie, owner._id)).status).toBe(403);
  });
});

describe('A4 when the reset mail cannot go out', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ LOCAL_LOGIN: 'all', SMTP_URL: 'smtp://127.0.0.1:9' });
  });
  afterAll(() => t.close());

  it('the reset happens and the console shows the link to pass on', async () => {
    const admin = await createUser(t, { roles: ['admin', 'user'] });
    const { cookie } = await startBrowserSession(t, admin);
    const user = await localUser(t, `unmailed-${Date.now()}@example.test`, 'unmailed password 123', ['user']);
    const reset = await resetFromConsole(t, cookie, user._id);
    expect(reset.status).toBe(200);
    expect(reset.text).toContain('The mail could not be sent');
    const link = /value="(http[^"]+\/reset-password#[^"]+)"/.exec(reset.text)?.[1] ?? '';
    expect(link).toContain('/reset-password#');
    rememberSecret('a reset link token', new URL(link).hash.slice(1));
  });
});
