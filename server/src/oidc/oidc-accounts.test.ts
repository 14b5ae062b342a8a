// docs/security-tests.md O12, O13 and the account rules of docs/architecture.md "Sign-in, step by step": accounts are found
// by (iss, sub) and never by an unverified email; closed signup, allowed domains, disabled
// and banned accounts are refused with a stable code, a plain-words page and a login.refused
// audit entry.
import { randomBytes } from 'node:crypto';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestApp, TEST_FIRST_RUN_PASSWORD, type TestApp } from '../../test/harness.js';
import { type RogueApp, signInAtRogue, startRogueApp } from '../../test/rogue-idp.js';
import { ALICE, authorizeAtIdp, BOB, callback, expectRefused, SecretWatch, signedInUserId, startLogin } from '../../test/sign-in.js';

const ALICE_SUB = 'f1c3a7e2-5b0d-4c8e-9a61-2d7f4b9e0a11'; // scripts/dev-idp/accounts.mjs

/** A whole sign-in at the dev IdP; the callback asks for `accept`. */
async function devSignIn(t: TestApp, user = ALICE, accept = 'application/json') {
  const started = await startLogin(t);
  const back = await authorizeAtIdp(started, user);
  return callback(t, back, started.loginCookie).set('Accept', accept);
}

/** A rogue sign-in whose ID token carries `email` with the given email_verified (undefined: absent). */
function rogueClaimingEmail(s: RogueApp, email: string, emailVerified: unknown, sub = `sub-${randomBytes(6).toString('hex')}`) {
  s.idp.behaviour.claims = { email, ...(emailVerified === undefined ? {} : { email_verified: emailVerified }) };
  s.idp.behaviour.omit = emailVerified === undefined ? ['email_verified'] : [];
  return signInAtRogue(s, { sub });
}

/** The three ways a provider can fail to confirm an email (O12). */
const UNVERIFIED: [string, unknown][] = [
  ['email_verified false', false],
  ['email_verified absent', undefined],
  ['email_verified the string "true"', 'true'],
];

const refusal = (code: string) => ({ status: 403, code, audit: { action: 'login.refused', reason: code } }) as const;

describe('O12 / O13: accounts are keyed by (iss, sub), never by an unverified email', () => {
  let s: RogueApp;
  let aliceId: string;
  beforeAll(async () => {
    s = await startRogueApp();
    aliceId = await signedInUserId(s.t, await devSignIn(s.t));
  });
  afterEach(() => s.watch.expectNotLeaked(s.t));
  afterAll(() => s.close());

  it.each([...UNVERIFIED, ['email_verified true (linking by email is never done for an existing account)', true]])(
    'O12 %s with the email of an existing user: never linked, never signed in as that user',
    async (_name, emailVerified) => {
      const { response } = await rogueClaimingEmail(s, ALICE.login, emailVerified);
      const userId = await signedInUserId(s.t, response);
      expect(userId).not.toBe(aliceId);
      const users = s.t.db.collection('users');
      expect(await users.countDocuments({ email: ALICE.login })).toBe(1);
      expect((await users.findOne({ _id: userId as never }))?.email).toBeUndefined();
      expect(await s.t.db.collection('identities').countDocuments({ userId: aliceId })).toBe(1);
    },
  );

  it('O13 same sub from two providers: two identities and two users', async () => {
    const { response } = await signInAtRogue(s, { sub: ALICE_SUB });
    const rogueUserId = await signedInUserId(s.t, response);
    expect(rogueUserId).not.toBe(aliceId);
    const identities = await s.t.db.collection('identities').find({ sub: ALICE_SUB }).toArray();
    expect(identities).toHaveLength(2);
    expect(new Set(identities.map((identity) => identity.iss)).size).toBe(2);
    expect(new Set(identities.map((identity) => identity.userId))).toEqual(new Set([aliceId, rogueUserId]));
    // Each provider keeps finding its own account.
    expect(await signedInUserId(s.t, await devSignIn(s.t))).toBe(aliceId);
    expect(await signedInUserId(s.t, (await signInAtRogue(s, { sub: ALICE_SUB })).response)).toBe(rogueUserId);
  });
});

/** Runs first-run setup, creating the owner account waiting for its first sign-in. */
async function setUpOwner(t: TestApp, email: string): Promise<string> {
  const response = await t.http.post('/api/v1/setup').set('Authorization', `Bootstrap ${TEST_FIRST_RUN_PASSWORD}`).send({ email });
  expect(response.status, response.text).toBe(201);
  return response.body.userId as string;
}

describe('O12: the owner created by setup is claimed only by a sign-in whose email_verified is exactly true', () => {
  const ownerEmail = 'owner@rogue.example';
  let s: RogueApp;
  let ownerId: string;
  beforeAll(async () => {
    s = await startRogueApp();
    s.watch.add(TEST_FIRST_RUN_PASSWORD);
    ownerId = await setUpOwner(s.t, ownerEmail);
  });
  afterEach(() => s.watch.expectNotLeaked(s.t));
  afterAll(() => s.close());

  it.each(UNVERIFIED)('O12 %s with the pending owner email: a different user, the owner stays unclaimed', async (_name, emailVerified) => {
    const userId = await signedInUserId(s.t, (await rogueClaimingEmail(s, ownerEmail, emailVerified)).response);
    expect(userId).not.toBe(ownerId);
    const owner = await s.t.db.collection('users').findOne({ _id: ownerId as never });
    expect(owner?.pendingFirstSignIn).toBe(true);
    expect(owner?.lastSignInAt).toBeUndefined();
    expect(await s.t.db.collection('identities').countDocuments({ userId: ownerId })).toBe(0);
  });

  it('O12 email_verified true with the pending owner email claims the owner account, once', async () => {
    const sub = 'the-real-owner';
    expect(await signedInUserId(s.t, (await rogueClaimingEmail(s, ownerEmail, true, sub)).response)).toBe(ownerId);
    const owner = await s.t.db.collection('users').findOne({ _id: ownerId as never });
    expect(owner?.pendingFirstSignIn).toBeUndefined();
    expect(owner?.roles).toEqual(expect.arrayContaining(['owner']));
    // Claimed: a second person with the same verified email gets an account of their own.
    expect(await signedInUserId(s.t, (await rogueClaimingEmail(s, ownerEmail, true)).response)).not.toBe(ownerId);
  });
});

describe('O12 with signup closed: an unverified email cannot claim the pending owner either', () => {
  const ownerEmail = 'owner@rogue.example';
  let s: RogueApp;
  let ownerId: string;
  beforeAll(async () => {
    s = await startRogueApp({}, { DISABLE_SIGNUP: 'true' });
    ownerId = await setUpOwner(s.t, ownerEmail);
  });
  afterEach(() => s.watch.expectNotLeaked(s.t));
  afterAll(() => s.close());

  it.each(UNVERIFIED)('O12 %s with the pending owner email is refused with SIGNUP_CLOSED', async (_name, emailVerified) => {
    await expectRefused(s.t, async () => (await rogueClaimingEmail(s, ownerEmail, emailVerified)).response, refusal('SIGNUP_CLOSED'));
    expect((await s.t.db.collection('users').findOne({ _id: ownerId as never }))?.pendingFirstSignIn).toBe(true);
  });

  it('an invited person (the owner) signs in although signup is closed', async () => {
    expect(await signedInUserId(s.t, (await rogueClaimingEmail(s, ownerEmail, true)).response)).toBe(ownerId);
  });
});

describe('signup closed (DISABLE_SIGNUP=true)', () => {
  // Two apps on one database: the open one creates alice's account, the closed one is tested.
  let client: MongoClient;
  let db: Db;
  let open: TestApp;
  let closed: TestApp;
  const watch = new SecretWatch();
  beforeAll(async () => {
    client = new MongoClient(inject('stack').mongoUrl, { serverSelectionTimeoutMS: 5_000 });
    db = client.db(`t_signup_${randomBytes(4).toString('hex')}`);
    open = await createTestApp({}, { mongo: { client, db } });
    closed = await createTestApp({ DISABLE_SIGNUP: 'true' }, { mongo: { client, db } });
    watch.add(closed.config.providers[0]?.clientSecret);
  });
  afterEach(() => watch.expectNotLeaked(closed));
  afterAll(async () => {
    await open?.close();
    await closed?.close();
    await db?.dropDatabase().catch(() => undefined);
    await client?.close();
  });

  it('refuses a new person with 403 SIGNUP_CLOSED and creates no account', async () => {
    await expectRefused(closed, () => devSignIn(closed, BOB), refusal('SIGNUP_CLOSED'));
    expect(await db.collection('users').countDocuments({ email: BOB.login })).toBe(0);
    expect(await db.collection('identities').countDocuments()).toBe(0);
  });

  it('lets a person who already has an account in', async () => {
    const aliceId = await signedInUserId(open, await devSignIn(open));
    expect(await signedInUserId(closed, await devSignIn(closed))).toBe(aliceId);
  });

  it('says so in plain words when a browser asks', async () => {
    const page = await devSignIn(closed, BOB, 'text/html');
    expect(page.status).toBe(403);
    expect(page.text).toContain('New accounts cannot be created here.');
  });
});

describe('OIDC_<ID>_ALLOWED_DOMAINS', () => {
  let s: RogueApp;
  beforeAll(async () => {
    s = await startRogueApp({}, { OIDC_DEV_ALLOWED_DOMAINS: 'example.org', OIDC_ROGUE_ALLOWED_DOMAINS: 'rogue.example' });
  });
  afterEach(() => s.watch.expectNotLeaked(s.t));
  afterAll(() => s.close());

  it('refuses a new person from another domain with 403 DOMAIN_NOT_ALLOWED and creates no account', async () => {
    await expectRefused(s.t, () => devSignIn(s.t), refusal('DOMAIN_NOT_ALLOWED'));
    expect(await s.t.db.collection('users').countDocuments()).toBe(0);
    const page = await devSignIn(s.t, ALICE, 'text/html');
    expect(page.status).toBe(403);
    expect(page.text).toContain('Accounts from this email domain are not allowed.');
  });

  it('refuses an allowed domain whose email the provider did not verify', async () => {
    await expectRefused(
      s.t,
      async () => (await rogueClaimingEmail(s, 'someone@rogue.example', false)).response,
      refusal('DOMAIN_NOT_ALLOWED'),
    );
  });

  it('lets a verified email of an allowed domain in', async () => {
    await signedInUserId(s.t, (await rogueClaimingEmail(s, 'someone@rogue.example', true)).response);
  });
});

describe('disabled and banned accounts', () => {
  let t: TestApp;
  let aliceId: string;
  const watch = new SecretWatch();
  beforeAll(async () => {
    t = await createTestApp();
    watch.add(t.config.providers[0]?.clientSecret);
    aliceId = await signedInUserId(t, await devSignIn(t));
  });
  afterEach(async () => {
    await t.db.collection('users').updateOne({ _id: aliceId as never }, { $set: { status: 'active' } });
    await watch.expectNotLeaked(t);
  });
  afterAll(() => t.close());

  it.each([
    ['disabled', 'ACCOUNT_DISABLED', 'This account has been disabled.'],
    ['banned', 'ACCOUNT_BANNED', 'This account has been banned.'],
  ])('a %s user is refused with %s, a plain-words page, and login.refused audited', async (status, code, sentence) => {
    await t.db.collection('users').updateOne({ _id: aliceId as never }, { $set: { status } });
    const before = await t.db.collection('users').findOne({ _id: aliceId as never });
    await expectRefused(t, () => devSignIn(t), refusal(code));
    // The refused sign-in leaves the account as it was (no lastSignInAt, no role remapping).
    expect(await t.db.collection('users').findOne({ _id: aliceId as never })).toEqual(before);
    const entry = await t.db.collection('audit').findOne({ action: 'login.refused', 'details.reason': code });
    expect(entry?.target).toBe(`user:${aliceId}`);

    const page = await devSignIn(t, ALICE, 'text/html');
    expect(page.status).toBe(403);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain(sentence);
    expect(page.text).toContain('Access refused');
    expect(page.headers['set-cookie'] ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^__Host-gatehouse=/)]));
  });

  it('the same person signs in again once the account is active', async () => {
    expect(await signedInUserId(t, await devSignIn(t))).toBe(aliceId);
  });
});
