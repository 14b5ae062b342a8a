// docs/security-tests.md N5 (one canonical email at write and lookup: case, Unicode look-alikes,
// zero-width characters, IDN) through setup, and N13 (no user enumeration through status or
// body) on the endpoints that exist: setup and the sign-in start.
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_FIRST_RUN_PASSWORD, type TestApp } from '../../test/harness.js';
import { collection, expectProblem, SecretWatch } from '../../test/http-checks.js';
import { ALICE, BOB, signIn } from '../../test/sign-in.js';
import { IpCipher, randomId } from '../crypto/index.js';

const watch = new SecretWatch();
afterAll(() => watch.closeAll());

const BOOTSTRAP = `Bootstrap ${TEST_FIRST_RUN_PASSWORD}`;

function setup(t: TestApp, email: string, authorization = BOOTSTRAP) {
  return t.http.post('/api/v1/setup').set('Authorization', authorization).send({ email });
}

/** An account that exists before setup (not an owner), as a sign-in would have left it. */
async function existingUser(t: TestApp, email: string): Promise<string> {
  const now = new Date();
  const _id = randomId();
  await collection(t, 'users').insertOne({
    _id,
    email,
    name: 'Existing',
    status: 'active',
    roles: ['user'],
    tokenVersion: 0,
    keySalt: IpCipher.newUserSalt(),
    createdAt: now,
    updatedAt: now,
  });
  return _id;
}

/** The dev IdP's alice@example.com, written every way a person or an attacker might type it. */
const ALICE_SPELLINGS: [string, string][] = [
  ['upper case', 'ALICE@EXAMPLE.COM'],
  ['mixed case', 'Alice@Example.Com'],
  ['fullwidth letters, @ and dot', 'ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ'],
  ['a zero-width space and joiner', 'al\u200Bice@exam\u200Dple.com'],
  ['a soft hyphen and a BOM', '\uFEFFali\u00ADce@example.com'],
  ['surrounding spaces', '  alice@example.com  '],
  ['a fullwidth domain only', 'alice@ＥＸＡＭＰＬＥ.com'],
];

/** One IDN domain in its Unicode, decomposed, upper-case and punycode spellings. */
const IDN_SPELLINGS: [string, string][] = [
  ['Unicode', 'owner@bücher.example'],
  ['decomposed Unicode (u + U+0308)', 'owner@bu\u0308cher.example'],
  ['upper-case Unicode', 'OWNER@BÜCHER.EXAMPLE'],
  ['punycode', 'owner@xn--bcher-kva.example'],
  ['upper-case punycode', 'OWNER@XN--BCHER-KVA.EXAMPLE'],
];
const IDN_CANONICAL = 'owner@xn--bcher-kva.example';

describe('N5 email canonicalisation through setup', () => {
  it.each(ALICE_SPELLINGS)(
    'N5 setup with alice written in %s stores alice@example.com, and her IdP sign-in finds that account',
    async (_, spelling) => {
      const t = watch.track(await createTestApp());
      const response = await setup(t, spelling);
      expect(response.status, response.text).toBe(201);
      expect(response.body.email).toBe('alice@example.com');
      expect(await collection(t, 'users').findOne({ _id: response.body.userId })).toMatchObject({ email: 'alice@example.com' });

      // Lookup: the sign-in of alice@example.com (verified by the IdP) claims the setup account.
      const { sessionCookie } = await signIn(t, ALICE);
      watch.add('session cookie', sessionCookie);
      expect(await t.db.collection('users').countDocuments({})).toBe(1);
      const identity = await t.db.collection('identities').findOne({});
      expect(identity?.userId).toBe(response.body.userId);
      const user = await collection(t, 'users').findOne({ _id: response.body.userId });
      expect(user?.roles).toContain('owner');
    },
  );

  it.each(IDN_SPELLINGS)('N5 setup with the IDN address in %s writes the punycode form', async (_, spelling) => {
    const t = watch.track(await createTestApp());
    const response = await setup(t, spelling);
    expect(response.status, response.text).toBe(201);
    expect(response.body.email).toBe(IDN_CANONICAL);
    expect(await t.db.collection('users').findOne({ email: IDN_CANONICAL })).toMatchObject({ _id: response.body.userId });
  });

  it.each([...IDN_SPELLINGS, ...ALICE_SPELLINGS.slice(0, 1)])(
    'N5 setup with %s finds the existing account stored canonically instead of making a second one',
    async (_, spelling) => {
      const t = watch.track(await createTestApp());
      const canonical = spelling.toLowerCase().includes('alice') ? 'alice@example.com' : IDN_CANONICAL;
      const existingId = await existingUser(t, canonical);
      const response = await setup(t, spelling);
      expect(response.status, response.text).toBe(201);
      expect(response.body).toEqual({ userId: existingId, email: canonical });
      expect(await t.db.collection('users').countDocuments({})).toBe(1);
      expect((await collection(t, 'users').findOne({ _id: existingId }))?.roles).toContain('owner');
    },
  );

  it.each([
    ['a space inside', 'alice@exa mple.com'],
    ['a non-ASCII local part', 'ålice@example.com'],
    ['a Cyrillic look-alike in the local part', 'аlice@example.com'],
    ['two @', 'alice@@example.com'],
    ['no domain dot', 'alice@example'],
    ['a leading hyphen label', 'alice@-example.com'],
    ['a trailing dot', 'alice@example.com.'],
    ['a newline', 'alice@example.com\nbcc@evil.example'],
    ['a comment', 'alice(comment)@example.com'],
    ['a quoted local part', '"alice"@example.com'],
    ['an IP literal', 'alice@[127.0.0.1]'],
  ])('N5 an address that has no safe canonical form (%s) is refused with 400 and nothing written', async (_, email) => {
    const t = watch.track(await createTestApp());
    const response = await setup(t, email);
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(await t.db.collection('users').countDocuments({})).toBe(0);
  });
});

describe('N13 no user enumeration', () => {
  /** Status, body minus the request id and user id, and the header names: what a prober sees. */
  function shape(response: { status: number; body: Record<string, unknown>; headers: Record<string, string> }) {
    const { requestId: _r, userId, ...body } = response.body;
    return {
      status: response.status,
      body: { ...body, ...(userId === undefined ? {} : { userId: typeof userId }) },
      headers: Object.keys(response.headers)
        .filter((name) => name !== 'date' && name !== 'x-request-id' && name !== 'content-length' && name !== 'etag')
        .sort(),
    };
  }

  it('N13 setup naming an existing account and setup naming a new address answer with the same shape', async () => {
    const known = watch.track(await createTestApp());
    const { sessionCookie } = await signIn(known, ALICE);
    watch.add('session cookie', sessionCookie);
    const unknown = watch.track(await createTestApp());

    const existing = await setup(known, 'alice@example.com');
    const fresh = await setup(unknown, 'alice@example.com');
    expect(existing.status).toBe(201);
    expect(shape(existing)).toEqual(shape(fresh));
  });

  it.each([
    ['a wrong password', `Bootstrap ${TEST_FIRST_RUN_PASSWORD.slice(1)}`],
    ['no password', ''],
  ])('N13 a refused setup (%s) answers the same for an existing and an unknown email', async (_, authorization) => {
    const t = watch.track(await createTestApp());
    const { sessionCookie } = await signIn(t, BOB);
    watch.add('session cookie', sessionCookie);
    const forExisting = await setup(t, 'bob@example.com', authorization);
    const forUnknown = await setup(t, 'nobody@example.com', authorization);
    expectProblem(forExisting, 401, 'SETUP_PASSWORD_INVALID');
    expect(shape(forExisting)).toEqual(shape(forUnknown));
  });

  it('N13 the sign-in start is the same for anyone: anonymous, alice, bob, or a dead cookie', async () => {
    const t = watch.track(await createTestApp());
    const alice = (await signIn(t, ALICE)).sessionCookie;
    const bob = (await signIn(t, BOB)).sessionCookie;
    watch.add('session cookie', alice);
    watch.add('session cookie', bob);

    const starts = await Promise.all(
      [null, alice, bob, '__Host-gatehouse=not-a-token'].map((cookie) => {
        const request = t.http.get('/auth/dev/login?return_to=%2Faccount');
        if (cookie) request.set('Cookie', cookie);
        return request;
      }),
    );
    const summary = (response: (typeof starts)[number]) => {
      const location = new URL(response.headers.location ?? '');
      const perRequest = ['state', 'nonce', 'code_challenge'];
      return {
        status: response.status,
        target: location.origin + location.pathname,
        params: [...location.searchParams].filter(([name]) => !perRequest.includes(name)),
        paramNames: [...location.searchParams.keys()].sort(),
        headers: Object.keys(response.headers)
          .filter((name) => !['date', 'x-request-id', 'content-length'].includes(name))
          .sort(),
        body: response.text.replace(/href="[^"]*"|https?:\/\/\S+/g, ''),
      };
    };
    const [anonymous, ...others] = starts.map(summary);
    expect(anonymous?.status).toBe(302);
    for (const other of others) expect(other).toEqual(anonymous);
  });

  it('N13 the sign-in start takes no user hint at all: login_hint is refused the same for known and unknown users', async () => {
    const t = watch.track(await createTestApp());
    const { sessionCookie } = await signIn(t, ALICE);
    watch.add('session cookie', sessionCookie);
    const known = await t.http.get('/auth/dev/login?login_hint=alice%40example.com').set('Accept', 'application/json');
    const unknown = await t.http.get('/auth/dev/login?login_hint=nobody%40example.com').set('Accept', 'application/json');
    expectProblem(known, 400, 'VALIDATION_FAILED');
    expect(shape(known)).toEqual(shape(unknown));
  });
});

it('keeps every secret of this file (cookies, bootstrap password, master key) out of the logs', () => {
  watch.expectNoSecretInLogs();
});
