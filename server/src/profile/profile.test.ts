// The person's own profile (issue 12 item 4, docs/profile.md): docs/security-tests.md M1-M5.
import { randomBytes } from 'node:crypto';
import { ERROR_CODES } from '@gatehouse/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createUser, issueApiToken, startBrowserSession, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { expectProblem } from '../../test/http-checks.js';
import { apiHeaders } from '../../test/local-auth-support.js';
import { catcherSmtpUrl, linkIn, mailTo, waitForMail } from '../../test/mail.js';
import { signIn } from '../../test/sign-in.js';
import { rememberSecret } from '../../test/suite-audit.js';
import type { User } from '../users/index.js';

const unique = () => randomBytes(4).toString('hex');
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ SMTP_URL: catcherSmtpUrl() });
});
afterAll(() => t.close());

/** A local account (no SSO identity) with an email, and its browser session. */
async function localAccount(app = t): Promise<{ user: User; cookie: string; email: string }> {
  const user = await createUser(app, { name: 'Lena Local' });
  const email = `lena-${unique()}@example.test`;
  await app.db.collection('users').updateOne({ _id: user._id as never }, { $set: { email } });
  const { cookie } = await startBrowserSession(app, user);
  return { user, cookie, email };
}

async function patch(body: unknown, cookie: string, app = t) {
  return app.http
    .patch('/api/v1/me')
    .set(await apiHeaders(app, cookie))
    .send(body as object);
}

function confirm(token: string, app = t) {
  return app.http.post('/confirm-email').set('Origin', TEST_ORIGIN).type('form').send({ token });
}

describe('M1 display name', () => {
  it('changes the name only; {} changes nothing; every change is audited', async () => {
    const { user, cookie, email } = await localAccount();
    const renamed = await patch({ name: '  Lena Lovelace ' }, cookie);
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toEqual({ name: 'Lena Lovelace', email, emailEditable: true });
    expect((await t.http.get('/api/v1/me').set('Cookie', cookie)).body.name).toBe('Lena Lovelace');
    const before = await t.db.collection('users').findOne({ _id: user._id as never });
    const nothing = await patch({}, cookie);
    expect(nothing.status).toBe(200);
    expect(await t.db.collection('users').findOne({ _id: user._id as never })).toEqual(before);
    expect(await t.db.collection('audit').countDocuments({ action: 'user.updated', target: `user:${user._id}` })).toBe(1);
    // The account page shows the form with the new name.
    const page = await t.http.get('/account').set('Cookie', cookie);
    expect(page.text).toContain('id="profile-form"');
    expect(page.text).toContain('value="Lena Lovelace"');
  });

  it('M2 refuses bad input with field messages, never a 500, and changes nothing', async () => {
    const { user, cookie } = await localAccount();
    for (const body of [
      { name: '' },
      { name: 'x'.repeat(101) },
      { name: 42 },
      { name: { $set: 'x' } },
      { role: 'owner' },
      { email: 'nope' },
      [],
    ]) {
      const response = await patch(body, cookie);
      expectProblem(response, 400, 'VALIDATION_FAILED');
    }
    const tooLong = await patch({ name: 'x'.repeat(101) }, cookie);
    expect(tooLong.body.errors?.[0]?.message).toBe('At most 100 characters.');
    expect((await t.services.users.findById(user._id))?.name).toBe('Lena Local');
  });

  it('M2 only a browser session edits the profile: an API token, no credential, or a cross-site request are refused', async () => {
    const { user, cookie } = await localAccount();
    const { token } = await issueApiToken(t, user, ['profile:read', 'sessions:revoke']);
    const withToken = await t.http.patch('/api/v1/me').set('Authorization', `Bearer ${token}`).send({ name: 'Token' });
    expectProblem(withToken, 403, 'FORBIDDEN');
    expect((await t.http.patch('/api/v1/me').send({ name: 'Nobody' })).status).toBe(401);
    const crossSite = await t.http.patch('/api/v1/me').set('Cookie', cookie).set('Origin', 'https://evil.test').send({ name: 'Evil' });
    expect(crossSite.status).toBe(403);
    expect((await t.services.users.findById(user._id))?.name).toBe('Lena Local');
  });
});

describe('M3 email of a local account: confirmed by a link to the new address', () => {
  it('nothing changes until the link is followed; the link works once', async () => {
    const { user, cookie, email } = await localAccount();
    const next = `new-${unique()}@example.test`;
    const asked = await patch({ email: next.toUpperCase() }, cookie);
    expect(asked.status, asked.text).toBe(200);
    expect(asked.body).toMatchObject({ email, pendingEmail: next });
    expect((await t.services.users.findById(user._id))?.email).toBe(email);
    const mail = await waitForMail(next);
    expect(mail.subject).toBe('Confirm your new Gatehouse email address');
    const token = linkIn(mail, '/confirm-email').hash.slice(1);
    rememberSecret('an email confirmation token', token);
    expect((await t.http.get('/account').set('Cookie', cookie)).text).toContain(`Waiting for confirmation: ${next}`);

    const done = await confirm(token);
    expect(done.status, done.text).toBe(303);
    expect(done.headers.location).toBe('/account?notice=email-changed');
    expect((await t.services.users.findById(user._id))?.email).toBe(next);
    expect((await t.http.get('/account?notice=email-changed').set('Cookie', cookie)).text).toContain('Your email address is changed.');
    expect(await t.db.collection('audit').countDocuments({ action: 'email.changed', outcome: 'success', target: `user:${user._id}` })).toBe(
      1,
    );

    const twice = await confirm(token);
    expect(twice.headers.location).toBe('/confirm-email?error=EMAIL_LINK_INVALID');
    expect((await t.http.get('/confirm-email?error=EMAIL_LINK_INVALID')).text).toContain('This confirmation link is not valid');
  });

  it('a newer request or sign-out-everywhere voids the older link; other token types are no confirmation link', async () => {
    const { user, cookie } = await localAccount();
    const first = `first-${unique()}@example.test`;
    const second = `second-${unique()}@example.test`;
    await patch({ email: first }, cookie);
    const firstToken = linkIn(await waitForMail(first), '/confirm-email').hash.slice(1);
    rememberSecret('an email confirmation token', firstToken);
    await patch({ email: second }, cookie);
    const secondToken = linkIn(await waitForMail(second), '/confirm-email').hash.slice(1);
    rememberSecret('an email confirmation token', secondToken);
    expect((await confirm(firstToken)).headers.location).toBe('/confirm-email?error=EMAIL_LINK_INVALID');

    const invitation = await t.services.issuer.mint('invitation', { sub: user._id, tokenVersion: user.tokenVersion, ttlSeconds: 600 });
    const reset = await t.services.issuer.mint('passwordReset', { sub: user._id, tokenVersion: user.tokenVersion, ttlSeconds: 600 });
    const session = (await startBrowserSession(t, user)).token;
    for (const other of [invitation.token, reset.token, session, 'garbage']) {
      expect((await confirm(other)).headers.location).toBe('/confirm-email?error=EMAIL_LINK_INVALID');
    }
    // The confirmation token opens no invitation and signs nobody in.
    expect((await t.http.post('/invite').set('Origin', TEST_ORIGIN).type('form').send({ token: secondToken })).headers.location).toBe(
      '/invite?error=INVITATION_INVALID',
    );
    expect((await t.http.get('/api/v1/me').set('Authorization', `Bearer ${secondToken}`)).status).toBe(401);

    await t.services.sessions.revokeAll(user._id, 'test');
    expect((await confirm(secondToken)).headers.location).toBe('/confirm-email?error=EMAIL_LINK_INVALID');
    expect((await t.services.users.findById(user._id))?.email).not.toBe(second);
    const reasons = (await t.db.collection('audit').find({ action: 'email.changed', outcome: 'failure' }).toArray()).map(
      (e) => e.details?.reason,
    );
    expect(reasons).toEqual(expect.arrayContaining(['link_used_or_replaced', 'token_invalid', 'token_version_changed']));
  });

  it('M4 an address another account uses is refused, before and at confirmation', async () => {
    const a = await localAccount();
    const b = await localAccount();
    expectProblem(await patch({ email: b.email }, a.cookie), 409, 'EMAIL_TAKEN');
    const wanted = `wanted-${unique()}@example.test`;
    await patch({ email: wanted }, a.cookie);
    const token = linkIn(await waitForMail(wanted), '/confirm-email').hash.slice(1);
    rememberSecret('an email confirmation token', token);
    // b takes the address first (directly, as an admin tool could).
    await t.db.collection('users').updateOne({ _id: b.user._id as never }, { $set: { email: wanted } });
    expect((await confirm(token)).headers.location).toBe('/confirm-email?error=EMAIL_TAKEN');
    expect((await t.services.users.findById(a.user._id))?.email).toBe(a.email);
  });
});

describe('the account page offers only what the person can use', () => {
  it('offers the admin:users scope to admins and owners only', async () => {
    const { cookie } = await localAccount();
    const plain = await t.http.get('/account').set('Cookie', cookie);
    expect(plain.text).toContain('value="sessions:read"');
    expect(plain.text).not.toContain('value="admin:users"');
    expect(plain.text).not.toContain('href="/admin"');
    const admin = await createUser(t, { roles: ['admin', 'user'] });
    const page = await t.http.get('/account').set('Cookie', (await startBrowserSession(t, admin)).cookie);
    expect(page.text).toContain('value="admin:users"');
    expect(page.text).toContain('href="/admin"');
  });
});

describe('the account page lists API tokens apart from sessions', () => {
  it('shows each token with its name, scopes, dates and a Revoke that names it', async () => {
    const { user, cookie } = await localAccount();
    await issueApiToken(t, user, ['profile:read', 'activity:read']);
    const page = await t.http.get('/account').set('Cookie', cookie);
    const tokens = page.text.slice(page.text.indexOf('id="api-tokens"'));
    expect(tokens).toContain('test token');
    expect(tokens).toContain('profile:read, activity:read');
    expect(tokens).toContain('data-device="the API token “test token”"');
    const sessionsTable = page.text.slice(page.text.indexOf('id="sessions-heading"'), page.text.indexOf('id="paired-heading"'));
    expect(sessionsTable).not.toContain('test token');
  });
});

describe('M5 an address from an identity provider is read-only', () => {
  it('an SSO account may rename itself but not change its email', async () => {
    const { sessionCookie } = await signIn(t);
    const refused = await patch({ email: `other-${unique()}@example.test` }, sessionCookie);
    expectProblem(refused, 403, 'EMAIL_READ_ONLY');
    const renamed = await patch({ name: 'Alice A.' }, sessionCookie);
    expect(renamed.body).toMatchObject({ name: 'Alice A.', email: 'alice@example.com', emailEditable: false });
    expect((await t.http.get('/account').set('Cookie', sessionCookie)).text).toContain('change it there');
  });
});

describe('M6 when the confirmation mail cannot go out', () => {
  let down: TestApp;
  beforeAll(async () => {
    down = await createTestApp({ SMTP_URL: 'smtp://127.0.0.1:9' });
  });
  afterAll(() => down.close());

  it('answers 503 MAIL_NOT_SENT and remembers nothing', async () => {
    const { user, cookie } = await localAccount(down);
    const wanted = `unsent-${unique()}@example.test`;
    const response = await patch({ email: wanted }, cookie, down);
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ code: 'MAIL_NOT_SENT', title: ERROR_CODES.MAIL_NOT_SENT.message });
    expect(response.text).not.toContain('ECONNREFUSED');
    expect((await down.services.users.findById(user._id))?.pendingEmail).toBeUndefined();
    expect(await mailTo(wanted)).toEqual([]);
  });
});
