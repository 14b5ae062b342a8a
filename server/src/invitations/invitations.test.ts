// Invitations (issue 12 item 3, docs/invitations.md): docs/security-tests.md I1-I9. Real SMTP
// (the suite's mail catcher), the real dev IdP, FerretDB and Redis.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createUser, runGatehouse, startBrowserSession, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { expectProblem } from '../../test/http-checks.js';
import { apiHeaders } from '../../test/local-auth-support.js';
import { catcherSmtpUrl, linkIn, mailTo, waitForMail } from '../../test/mail.js';
import { ALICE, authorizeAtIdp, BOB, callback, cookieFrom, startLogin } from '../../test/sign-in.js';
import { rememberSecret } from '../../test/suite-audit.js';

const INVITE_COOKIE = '__Host-gatehouse-invite';
const unique = () => `${randomBytes(4).toString('hex')}`;

let t: TestApp;
let adminCookie: string;

beforeAll(async () => {
  // Signup closed and the dev IdP's domain not allowed: only an invitation lets bob in.
  t = await createTestApp({ SMTP_URL: catcherSmtpUrl(), DISABLE_SIGNUP: 'true', OIDC_DEV_ALLOWED_DOMAINS: 'corp.test' });
  const admin = await createUser(t, { roles: ['admin', 'user'], name: 'Ada Admin' });
  ({ cookie: adminCookie } = await startBrowserSession(t, admin));
});
afterAll(() => t.close());

async function invite(email: string, app = t, cookie = adminCookie) {
  return app.http
    .post('/api/v1/admin/invitations')
    .set(await apiHeaders(app, cookie))
    .send({ email });
}

/** The link's token, from the mail the catcher got. */
async function mailedToken(email: string, nth = 1): Promise<string> {
  const mail = await waitForMail(email, nth);
  const token = linkIn(mail, '/invite').hash.slice(1);
  rememberSecret('an invitation token', token);
  return token;
}

/** What the /invite page's script does: post the fragment's token; returns the invitation cookie. */
async function openInvitation(token: string, app = t) {
  return app.http.post('/invite').set('Origin', TEST_ORIGIN).type('form').send({ token });
}

describe('I1 inviting: mailed over SMTP, listed, audited', () => {
  it('an admin invites an address; the mail carries a single-use /invite link and the console lists it', async () => {
    const email = `new-${unique()}@elsewhere.test`;
    const response = await invite(email);
    expect(response.status, response.text).toBe(201);
    expect(response.body.sent).toBe(true);
    expect(response.body.url, 'a mailed link is not shown again').toBeUndefined();
    expect(response.body.invitation).toMatchObject({ email, status: 'pending', mailed: true, invitedBy: expect.stringMatching(/^user:/) });
    const mail = await waitForMail(email);
    expect(mail.subject).toBe('You are invited to Gatehouse');
    expect(mail.text).toContain('Ada Admin invited');
    expect(linkIn(mail, '/invite').origin).toBe(TEST_ORIGIN);

    const list = await t.http.get('/api/v1/admin/invitations').set(await apiHeaders(t, adminCookie));
    expect(list.status).toBe(200);
    expect(list.body.invitations.map((i: { email: string }) => i.email)).toContain(email);
    const page = await t.http.get('/admin/invitations').set('Cookie', adminCookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain(email);
    const audit = await t.db.collection('audit').findOne({ action: 'invitation.created', 'details.email': email });
    expect(audit?.details).toMatchObject({ status: 'sent' });
  });

  it('I7 refuses bad input with a stable code and stores nothing: not an email, operators, unknown fields, taken or already invited', async () => {
    const before = await t.db.collection('invitations').countDocuments();
    for (const body of [
      { email: 'not an email' },
      { email: { $ne: null } },
      { email: ['a@b.test'] },
      { email: 'a@b.test', admin: true },
      {},
    ]) {
      const response = await t.http
        .post('/api/v1/admin/invitations')
        .set(await apiHeaders(t, adminCookie))
        .send(body);
      expectProblem(response, 400, 'VALIDATION_FAILED');
    }
    const email = `twice-${unique()}@elsewhere.test`;
    expect((await invite(email)).status).toBe(201);
    expectProblem(await invite(email.toUpperCase()), 409, 'INVITATION_EXISTS');
    const existing = await createUser(t, { name: 'Has Account' });
    await t.db.collection('users').updateOne({ _id: existing._id as never }, { $set: { email: `taken-${unique()}@elsewhere.test` } });
    const taken = (await t.services.users.findById(existing._id))?.email ?? '';
    expectProblem(await invite(taken), 409, 'INVITATION_EXISTS');
    expect(await t.db.collection('invitations').countDocuments()).toBe(before + 1);
  });

  it('I7 a person who is not an admin cannot invite, list or withdraw', async () => {
    const plain = await createUser(t, { name: 'Plain' });
    const { cookie } = await startBrowserSession(t, plain);
    expectProblem(await invite(`x-${unique()}@elsewhere.test`, t, cookie), 403, 'FORBIDDEN');
    const list = await t.http.get('/api/v1/admin/invitations').set(await apiHeaders(t, cookie));
    expect(list.body.invitations ?? []).toEqual([]);
    expect((await t.http.get('/admin/invitations').set('Cookie', cookie)).status).toBe(403);
  });
});

describe('I2 accepting through SSO where signup is closed and the domain not allowed', () => {
  it('without an invitation bob is refused; with one, his new account has the invited address and the invitation is used up', async () => {
    // The control: the same sign-in without an invitation.
    const plain = await startLogin(t);
    const refused = await callback(t, await authorizeAtIdp(plain, BOB), plain.loginCookie).set('Accept', 'application/json');
    expectProblem(refused, 403, 'SIGNUP_CLOSED');

    const email = `bob-${unique()}@elsewhere.test`;
    expect((await invite(email)).status).toBe(201);
    const token = await mailedToken(email);
    const opened = await openInvitation(token);
    expect(opened.status, opened.text).toBe(303);
    expect(opened.headers.location).toBe('/invite/accept');
    const inviteCookie = cookieFrom(opened.headers['set-cookie'], INVITE_COOKIE) ?? '';
    expect(inviteCookie).toContain(token);
    expect(String(opened.headers['set-cookie'])).toMatch(/HttpOnly/i);

    const landing = await t.http.get('/invite/accept').set('Cookie', inviteCookie);
    expect(landing.status).toBe(200);
    expect(landing.text).toContain(email);
    expect(landing.text).toContain('/auth/dev/login');

    const started = await startLogin(t, { cookie: inviteCookie });
    const back = await authorizeAtIdp(started, BOB);
    const done = await callback(t, back, `${started.loginCookie}; ${inviteCookie}`);
    expect(done.status, done.text).toBe(302);
    expect(done.headers.location).toBe('/account');
    expect(String(done.headers['set-cookie'])).toContain(`${INVITE_COOKIE}=;`);

    const user = await t.services.users.findByEmail(email);
    expect(user?.name).toBe('Bob User');
    const invitation = await t.db.collection('invitations').findOne({ email });
    expect(invitation).toMatchObject({ status: 'accepted', acceptedBy: user?._id });
    expect(await t.db.collection('audit').countDocuments({ action: 'invitation.accepted', outcome: 'success' })).toBeGreaterThan(0);

    // I3: the link is used up; following it again changes nothing.
    const again = await openInvitation(token);
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe('/invite?error=INVITATION_INVALID');
    const page = await t.http.get(again.headers.location ?? '');
    expect(page.text).toContain('This invitation is not valid, has expired, was withdrawn or has been used.');
  });

  it('I3 two people racing with one invitation: exactly one account is made, the other is refused', async () => {
    // A fresh deployment where neither alice nor bob has an account, so both need the invitation.
    const r = await createTestApp({ SMTP_URL: catcherSmtpUrl(), DISABLE_SIGNUP: 'true' });
    try {
      const admin = await createUser(r, { roles: ['admin', 'user'] });
      const { cookie } = await startBrowserSession(r, admin);
      const email = `race-${unique()}@elsewhere.test`;
      expect((await invite(email, r, cookie)).status).toBe(201);
      const token = await mailedToken(email);
      const inviteCookie = cookieFrom((await openInvitation(token, r)).headers['set-cookie'], INVITE_COOKIE) ?? '';
      const [first, second] = await Promise.all([startLogin(r, { cookie: inviteCookie }), startLogin(r, { cookie: inviteCookie })]);
      const [backA, backB] = [await authorizeAtIdp(first, ALICE), await authorizeAtIdp(second, BOB)];
      const results = await Promise.all([
        callback(r, backA, `${first.loginCookie}; ${inviteCookie}`).set('Accept', 'application/json'),
        callback(r, backB, `${second.loginCookie}; ${inviteCookie}`).set('Accept', 'application/json'),
      ]);
      expect(results.map((result) => result.status).sort()).toEqual([302, 400]);
      expect(results.find((result) => result.status === 400)?.body.code).toBe('INVITATION_INVALID');
      expect(await r.db.collection('users').countDocuments({ email })).toBe(1);
      expect(await r.db.collection('identities').countDocuments()).toBe(1);
    } finally {
      await r.close();
    }
  });
});

describe('I4 an invitation token is only ever an invitation', () => {
  it('is refused as a bearer credential, and no other token or a forged one opens an invitation', async () => {
    const email = `typ-${unique()}@elsewhere.test`;
    expect((await invite(email)).status).toBe(201);
    const token = await mailedToken(email);
    expect((await t.http.get('/api/v1/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    const introspected = await t.http.get('/api/v1/me/sessions').set('Cookie', `__Host-gatehouse=${token}`);
    expect(introspected.status).toBe(401);

    const session = (await startBrowserSession(t, await createUser(t))).token;
    const reset = await t.services.issuer.mint('passwordReset', { sub: 'someone', tokenVersion: 0, ttlSeconds: 600 });
    const orphan = await t.services.issuer.mint('invitation', { sub: 'no-such-invitation', tokenVersion: 0, ttlSeconds: 600 });
    for (const [name, candidate] of [
      ['a session token', session],
      ['a reset link token', reset.token],
      ['an invitation token for no stored invitation', orphan.token],
      ['a tampered token', `${token.slice(0, -4)}AAAA`],
      ['garbage', 'not-a-token'],
    ] as const) {
      const response = await openInvitation(candidate);
      expect(response.headers.location, name).toBe('/invite?error=INVITATION_INVALID');
      expect(cookieFrom(response.headers['set-cookie'], INVITE_COOKIE), name).toBeNull();
    }
    // …and the invitation token is no reset link either.
    const asReset = await t.http
      .post('/auth/password/reset')
      .set('Origin', TEST_ORIGIN)
      .send({ token, password: 'a perfectly long password 9' });
    expectProblem(asReset, 400, 'RESET_LINK_INVALID');
    const failures = await t.db.collection('audit').find({ action: 'invitation.accepted', outcome: 'failure' }).toArray();
    expect(failures.map((entry) => entry.details?.reason)).toEqual(expect.arrayContaining(['token_invalid', 'unknown']));
    // A token of the right type naming the stored invitation, but not the one minted for it
    // (another jti), does not open it: only the mailed token does.
    const stored = await t.db.collection('invitations').findOne({ email });
    const lookalike = await t.services.issuer.mint('invitation', { sub: String(stored?._id), tokenVersion: 0, ttlSeconds: 600 });
    expect((await openInvitation(lookalike.token)).headers.location).toBe('/invite?error=INVITATION_INVALID');
    expect((await openInvitation(token)).headers.location).toBe('/invite/accept');
  });

  it('an invite cookie that holds no valid invitation does not stop an ordinary sign-in, and the accept page says it is invalid', async () => {
    const bogus = `${INVITE_COOKIE}=not-a-token`;
    const page = await t.http.get('/invite/accept').set('Cookie', bogus);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/invite?error=INVITATION_INVALID');
    const started = await startLogin(t, { cookie: bogus });
    expect(started.state).not.toBe('');
  });
});

describe('I5 withdrawing and expiry', () => {
  it('a withdrawn invitation is dead at once; withdrawing twice says so; the console lists it as revoked', async () => {
    const email = `gone-${unique()}@elsewhere.test`;
    const created = await invite(email);
    const token = await mailedToken(email);
    const id = created.body.invitation.id as string;
    const removed = await t.http.delete(`/api/v1/admin/invitations/${id}`).set(await apiHeaders(t, adminCookie));
    expect(removed.status, removed.text).toBe(204);
    expect((await openInvitation(token)).headers.location).toBe('/invite?error=INVITATION_INVALID');
    expectProblem(await t.http.delete(`/api/v1/admin/invitations/${id}`).set(await apiHeaders(t, adminCookie)), 400, 'INVITATION_INVALID');
    expectProblem(
      await t.http.delete('/api/v1/admin/invitations/nosuchinvitation').set(await apiHeaders(t, adminCookie)),
      404,
      'NOT_FOUND',
    );
    const list = await t.http.get('/api/v1/admin/invitations').set(await apiHeaders(t, adminCookie));
    expect(list.body.invitations.find((i: { id: string }) => i.id === id)?.status).toBe('revoked');
    // The address may be invited again now.
    expect((await invite(email)).status).toBe(201);
  });

  it('an expired invitation is refused and listed as expired', async () => {
    const email = `late-${unique()}@elsewhere.test`;
    const created = await invite(email);
    const token = await mailedToken(email);
    t.clock.advance((t.config.INVITATION_TTL_HOURS * 3600 + 60) * 1000);
    try {
      expect((await openInvitation(token)).headers.location).toBe('/invite?error=INVITATION_INVALID');
      const list = await t.services.invitations.list(100);
      expect(list.find((i) => i.id === created.body.invitation.id)?.status).toBe('expired');
    } finally {
      t.clock.advance(-(t.config.INVITATION_TTL_HOURS * 3600 + 60) * 1000);
    }
  });
});

describe('I6 when mail does not go out', () => {
  let down: TestApp;
  beforeAll(async () => {
    // A port nothing listens on: the SMTP connection is refused.
    down = await createTestApp({ SMTP_URL: 'smtp://127.0.0.1:9' });
  });
  afterAll(() => down.close());

  it('the invitation is stored, marked not sent, and the link is shown to the admin once (API, console, CLI)', async () => {
    const admin = await createUser(down, { roles: ['owner', 'admin', 'user'] });
    const { cookie } = await startBrowserSession(down, admin);
    const email = `unsent-${unique()}@elsewhere.test`;
    const response = await invite(email, down, cookie);
    expect(response.status, response.text).toBe(201);
    expect(response.body).toMatchObject({ sent: false, invitation: { email, mailed: false, status: 'pending' } });
    const url = new URL(response.body.url);
    expect(url.pathname).toBe('/invite');
    rememberSecret('an invitation token', url.hash.slice(1));
    expect((await openInvitation(url.hash.slice(1), down)).headers.location).toBe('/invite/accept');
    expect(await mailTo(email)).toEqual([]);
    expect(await down.db.collection('audit').findOne({ action: 'invitation.created', 'details.email': email })).toMatchObject({
      details: { status: 'not_sent' },
    });

    const csrf = down.services.csrf.forSession(
      (await down.services.sessions.authenticate(cookie.split('=')[1] ?? '')).principal.sessionId ?? '',
    );
    const consoleEmail = `console-${unique()}@elsewhere.test`;
    const page = await down.http
      .post('/admin/invitations')
      .set('Cookie', cookie)
      .set('Origin', TEST_ORIGIN)
      .type('form')
      .send({ csrf, email: consoleEmail });
    expect(page.status, page.text).toBe(201);
    expect(page.text).toContain('Not sent');
    const shown = /value="(http[^"]+\/invite#[^"]+)"/.exec(page.text)?.[1] ?? '';
    expect(shown).toContain('/invite#');
    rememberSecret('an invitation token', new URL(shown.replace(/&amp;/g, '&')).hash.slice(1));

    const cli = await runGatehouse(down, ['invitations', 'create', `cli-${unique()}@elsewhere.test`], { SMTP_URL: 'smtp://127.0.0.1:9' });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('NOT mailed');
    const link = /(http\S+\/invite#\S+)/.exec(cli.stdout)?.[1] ?? '';
    rememberSecret('an invitation token', new URL(link).hash.slice(1));
    const listed = await runGatehouse(down, ['invitations', 'list']);
    expect(listed.stdout).toContain(consoleEmail);
    expect(down.logLines.some((line) => line.includes('mail not sent'))).toBe(true);
  });
});

describe('I8 accepting with a password (LOCAL_LOGIN=all)', () => {
  let local: TestApp;
  beforeAll(async () => {
    local = await createTestApp({ SMTP_URL: catcherSmtpUrl(), LOCAL_LOGIN: 'all', DISABLE_SIGNUP: 'true' });
  });
  afterAll(() => local.close());

  it('a refused password leaves the invitation open; a good one makes the account, signs it in, and uses the invitation up', async () => {
    const admin = await createUser(local, { roles: ['admin', 'user'] });
    const { cookie } = await startBrowserSession(local, admin);
    const email = `local-${unique()}@elsewhere.test`;
    expect((await invite(email, local, cookie)).status).toBe(201);
    const token = await mailedToken(email);
    const inviteCookie = cookieFrom((await openInvitation(token, local)).headers['set-cookie'], INVITE_COOKIE) ?? '';
    const page = await local.http.get('/invite/accept').set('Cookie', inviteCookie);
    expect(page.text).toContain('action="/invite/password"');

    const post = (password: string, cookieHeader = inviteCookie) =>
      local.http
        .post('/invite/password')
        .set('Origin', TEST_ORIGIN)
        .set('Cookie', cookieHeader)
        .type('form')
        .send({ name: 'Lou Local', password });
    const weak = await post('password');
    expect(weak.headers.location).toBe('/invite/accept?error=PASSWORD_REJECTED');
    expect((await local.db.collection('invitations').findOne({ email }))?.status).toBe('pending');

    const password = 'a long local password 77';
    rememberSecret('an invited password', password);
    const made = await post(password);
    expect(made.status, made.text).toBe(303);
    expect(made.headers.location).toBe('/account');
    const session = cookieFrom(made.headers['set-cookie'], '__Host-gatehouse') ?? '';
    expect((await local.http.get('/api/v1/me').set('Cookie', session)).body).toMatchObject({ email, name: 'Lou Local' });
    expect((await local.db.collection('invitations').findOne({ email }))?.status).toBe('accepted');
    const twice = await post(password);
    expect(twice.headers.location).toBe('/invite?error=INVITATION_INVALID');
    const noCookie = await post(password, '');
    expect(noCookie.headers.location).toBe('/invite?error=INVITATION_INVALID');
  });
});
