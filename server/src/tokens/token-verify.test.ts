// docs/security-tests.md J1–J17: every kind of bad JWT presented to the one verification pipeline, at a
// Bearer route (GET /api/v1/me/sessions, expects an API token) and at the cookie route
// (GET /api/v1/me, expects a browser session token). Tokens are crafted by hand; where a claim
// or header check is the point, they carry a VALID signature from the ring's real private key,
// so that only the defect under test can be the reason for the refusal. General rule: 401
// problem details with a stable code, never a 5xx, no session cookie, the process stays up.
// J18 (Redis wiped) is in revocation-redis.test.ts.
import { createHash, createHmac, createPublicKey, KeyObject, randomBytes, sign } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ErrorCode, TOKEN_TYPES, type TokenType } from '@gatehouse/shared';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import supertest, { type Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signInAtDevIdp } from '../../../scripts/dev-idp/index.mjs';
import { createTestApp, createUser, issueApiToken, startBrowserSession, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { csrfTokenOf, expectProblem, introspectRequest, SecretWatch } from '../../test/http-checks.js';
import { ALICE, signIn } from '../../test/sign-in.js';
import { runKeysCommand } from '../cli/keys.js';
import { createHttpServer } from '../http/index.js';
import type { User } from '../users/index.js';

const RESOURCE_SERVER = { id: 'rs-verify', secret: randomBytes(32).toString('base64url') };
const watch = new SecretWatch();

let t: TestApp;
let alice: User;
/** Alice's real browser session (signed in through the dev IdP) and an API token of hers. */
let aliceCookie: string;
let aliceSessionId: string;
let aliceApi: { token: string; sessionId: string };

beforeAll(async () => {
  t = watch.track(await createTestApp({ RESOURCE_SERVERS: `${RESOURCE_SERVER.id}:${RESOURCE_SERVER.secret}` }));
  watch.add('resource server secret', RESOURCE_SERVER.secret);
  aliceCookie = (await signIn(t, ALICE)).sessionCookie;
  watch.add('alice session cookie', aliceCookie);
  alice = (await t.services.users.findByEmail('alice@example.com')) as User;
  aliceSessionId = payloadOf(aliceCookie.split('=')[1] ?? '').sid as string;
  aliceApi = await issueApiToken(t, alice);
  watch.add('alice api token', aliceApi.token);
});
afterAll(() => watch.closeAll());

// ---------------------------------------------------------------------------------------------
// Crafting tokens

const enc = (part: unknown) => Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)).toString('base64url');
const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
const nowSeconds = () => Math.floor(t.clock.now().getTime() / 1000);

/** Produces the signature segment for `header.payload`. */
type Signer = (signingInput: string) => Promise<string>;

async function es256(key: KeyObject, input: string): Promise<string> {
  return sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}
/** Signs with the ring's real, current private key. */
const ring: Signer = (input) => es256(t.services.keyring.signingKey().key as KeyObject, input);
const hs256 =
  (secret: string | Buffer): Signer =>
  async (input) =>
    createHmac('sha256', secret).update(input).digest('base64url');
const unsigned: Signer = async () => '';

/** The two places that verify a token, with the type each expects. */
interface Place {
  name: string;
  type: Extract<TokenType, 'session' | 'api'>;
  send(token: string): Promise<Response>;
}
const BEARER: Place = {
  name: 'Bearer route GET /api/v1/me/sessions',
  type: 'api',
  send: (token) => t.http.get('/api/v1/me/sessions').set('Authorization', `Bearer ${token}`),
};
const COOKIE: Place = {
  name: 'cookie route GET /api/v1/me',
  type: 'session',
  send: (token) => t.http.get('/api/v1/me').set('Cookie', `__Host-gatehouse=${token}`),
};
const PLACES = [BEARER, COOKIE];

function baseHeader(type: TokenType): Record<string, unknown> {
  return { alg: 'ES256', typ: TOKEN_TYPES[type].typ, kid: t.services.keyring.signingKey().kid };
}

function baseClaims(type: TokenType): Record<string, unknown> {
  const now = nowSeconds();
  return {
    iss: t.config.publicOrigin,
    sub: alice._id,
    aud: TOKEN_TYPES[type].audience,
    iat: now,
    exp: now + 600,
    jti: randomBytes(16).toString('base64url'),
    tv: 0,
    sid: type === 'session' ? aliceSessionId : aliceApi.sessionId,
    ...(type === 'api' ? { scope: 'profile:read sessions:read sessions:revoke' } : {}),
  };
}

interface Craft {
  /** Merged over the valid header (a value of `undefined` drops the field), or raw JSON text. */
  header?: Record<string, unknown> | string;
  /** Merged over the valid claims (a value of `undefined` drops the claim), or raw JSON text. */
  claims?: Record<string, unknown> | string;
  /** Default: the ring's real key. */
  signer?: Signer;
}

/** A JWT for `type`: valid unless the options break it. */
async function craft(type: TokenType, options: Craft = {}): Promise<string> {
  const header = typeof options.header === 'string' ? options.header : { ...baseHeader(type), ...options.header };
  const claims = typeof options.claims === 'string' ? options.claims : { ...baseClaims(type), ...options.claims };
  const input = `${enc(header)}.${enc(claims)}`;
  return `${input}.${await (options.signer ?? ring)(input)}`;
}

// ---------------------------------------------------------------------------------------------
// The general rule

/** The cookie reader refuses a value outside the cookie-safe alphabet before any verification. */
const COOKIE_SAFE = /^[A-Za-z0-9._-]{1,4096}$/;

/** 401 problem details with the stable code, a challenge on Bearer routes, and no session cookie. */
async function expectRefusedAt(place: Place, token: string, code: ErrorCode): Promise<Response> {
  const expected = place === COOKIE && !COOKIE_SAFE.test(token) ? 'UNAUTHENTICATED' : code;
  const response = await place.send(token);
  expectProblem(response, 401, expected);
  if (place === BEARER) expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
  expect([response.headers['set-cookie'] ?? []].flat().join('\n')).not.toContain('__Host-gatehouse=');
  return response;
}

async function expectAcceptedAt(place: Place, token: string): Promise<void> {
  const response = await place.send(token);
  expect(response.status, response.text).toBe(200);
}

async function introspect(token: string): Promise<Record<string, unknown>> {
  const response = await introspectRequest(t, token, [RESOURCE_SERVER.id, RESOURCE_SERVER.secret]);
  expect(response.status, response.text).toBe(200);
  return response.body as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------

describe.each(PLACES)('at the $name', (place) => {
  const type = place.type;

  it('control: a hand-crafted token with every claim right and the ring’s signature is accepted', async () => {
    await expectAcceptedAt(place, await craft(type));
  });

  it.each(['none', 'None', 'NONE', 'nOnE', 'none ', ''])('J1 alg "%s" with no signature', async (alg) => {
    await expectRefusedAt(place, await craft(type, { header: { alg }, signer: unsigned }), 'TOKEN_INVALID');
    await expectRefusedAt(place, await craft(type, { header: { alg, kid: undefined }, signer: unsigned }), 'TOKEN_INVALID');
  });

  it('J1 alg none carrying the signature of a valid token', async () => {
    const valid = await craft(type);
    const forged = await craft(type, { header: { alg: 'none' }, signer: async () => valid.split('.')[2] ?? '' });
    await expectRefusedAt(place, forged, 'TOKEN_INVALID');
  });

  it('J2 HS256 signed with our public key (x, y, x‖y, JWK JSON, SPKI PEM, DER) as the HMAC secret', async () => {
    const kid = t.services.keyring.signingKey().kid;
    const jwk = t.services.keyring.jwks().keys.find((key) => key.kid === kid) as JWK;
    const publicKey = createPublicKey({ key: jwk as never, format: 'jwk' });
    const secrets: (string | Buffer)[] = [
      jwk.x ?? '',
      jwk.y ?? '',
      `${jwk.x}${jwk.y}`,
      Buffer.concat([Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]),
      JSON.stringify(jwk),
      JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }),
      publicKey.export({ type: 'spki', format: 'pem' }),
      publicKey.export({ type: 'spki', format: 'der' }),
    ];
    for (const secret of secrets) {
      await expectRefusedAt(place, await craft(type, { header: { alg: 'HS256' }, signer: hs256(secret) }), 'TOKEN_INVALID');
      await expectRefusedAt(place, await craft(type, { header: { alg: 'HS256', kid: undefined }, signer: hs256(secret) }), 'TOKEN_INVALID');
    }
  });

  it.each([['no-such-kid'], [randomBytes(8).toString('hex')], ['static-abcdefgh']])('J3 unknown kid %s', async (kid) => {
    await expectRefusedAt(place, await craft(type, { header: { kid } }), 'TOKEN_INVALID');
  });

  it('J3 no kid at all', async () => {
    await expectRefusedAt(place, await craft(type, { header: { kid: undefined } }), 'TOKEN_INVALID');
  });

  it.each([
    ['an object', { $ne: null }],
    ['an array', ['a']],
    ['an array holding the real kid', 'REAL_KID_IN_ARRAY'],
    ['a number', 42],
    ['null', null],
    ['true', true],
    ['"$ne"', '$ne'],
    ['"$where"', '$where'],
    ['a path', '../../../../etc/passwd'],
    ['an encoded path', '..%2f..%2fetc%2fpasswd'],
    ['a URL', 'https://evil.example/key.json'],
    ['65 characters', 'a'.repeat(65)],
    ['with a NUL', 'kid\u0000x'],
  ])('J4 kid that is %s', async (_what, kid) => {
    const value = kid === 'REAL_KID_IN_ARRAY' ? [t.services.keyring.signingKey().kid] : kid;
    await expectRefusedAt(place, await craft(type, { header: { kid: value } }), 'TOKEN_INVALID');
  });

  it('J5 attacker key embedded in `jwk`, or pointed to by `jku` / `x5u` / `x5c`', async () => {
    const attacker = await generateKeyPair('ES256', { extractable: true });
    const attackerJwk = await exportJWK(attacker.publicKey);
    const bySelf: Signer = (input) => es256(KeyObject.from(attacker.privateKey as CryptoKey), input);
    const headers: Record<string, unknown>[] = [
      { jwk: attackerJwk, kid: undefined },
      { jwk: attackerJwk },
      { jwk: { ...attackerJwk, kid: t.services.keyring.signingKey().kid } },
      { jku: 'https://evil.example/jwks.json' },
      { jku: 'https://evil.example/jwks.json', kid: 'evil' },
      { x5u: 'https://evil.example/cert.pem' },
      { x5c: ['MIIBszCCAVmgAwIBAgIU'] },
    ];
    for (const header of headers) {
      await expectRefusedAt(place, await craft(type, { header, signer: bySelf }), 'TOKEN_INVALID');
      // Even with our real signature, a token that names its own key is not ours.
      await expectRefusedAt(place, await craft(type, { header }), 'TOKEN_INVALID');
    }
  });

  it('J6 tampered payload (sub, tv, scope, sid, exp changed after signing) and flipped or swapped signatures', async () => {
    const valid = await craft(type);
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const claims = payloadOf(valid);
    const tampered = [
      { ...claims, sub: 'someone-else' },
      { ...claims, tv: 1 },
      { ...claims, scope: 'profile:read sessions:read sessions:revoke activity:read' },
      { ...claims, sid: 'another-session' },
      { ...claims, exp: (claims.exp as number) + 86_400 },
    ];
    for (const changed of tampered) await expectRefusedAt(place, `${header}.${enc(changed)}.${signature}`, 'TOKEN_INVALID');

    const bytes = Buffer.from(signature, 'base64url');
    for (const index of [0, 31, 32, bytes.length - 1]) {
      const flipped = Buffer.from(bytes);
      flipped[index] = (flipped[index] ?? 0) ^ 0x01;
      await expectRefusedAt(place, `${header}.${payload}.${flipped.toString('base64url')}`, 'TOKEN_INVALID');
    }
    await expectRefusedAt(place, `${header}.${payload}.${bytes.subarray(0, 63).toString('base64url')}`, 'TOKEN_INVALID');
    await expectRefusedAt(place, `${header}.${payload}.${Buffer.alloc(64).toString('base64url')}`, 'TOKEN_INVALID');
    await expectRefusedAt(place, `${header}.${payload}.`, 'TOKEN_INVALID');
    const other = (await craft(type)).split('.')[2];
    await expectRefusedAt(place, `${header}.${payload}.${other}`, 'TOKEN_INVALID');
  });

  it('J7 expired (exp in the past) → TOKEN_EXPIRED', async () => {
    const now = nowSeconds();
    await expectRefusedAt(place, await craft(type, { claims: { iat: now - 700, exp: now - 100 } }), 'TOKEN_EXPIRED');
  });

  it('J7 a valid token after the clock moved past its exp → TOKEN_EXPIRED', async () => {
    const token = await craft(type, { claims: { exp: nowSeconds() + 120 } });
    await expectAcceptedAt(place, token); // now in the verified-token cache too
    t.clock.advance(10 * 60_000);
    try {
      await expectRefusedAt(place, token, 'TOKEN_EXPIRED');
    } finally {
      t.clock.advance(-10 * 60_000);
    }
  });

  it.each([
    ['exp missing', { exp: undefined }],
    ['exp a string', { exp: 'never' }],
    ['exp null', { exp: null }],
    ['nbf in the future', { nbf: 'FUTURE' }],
    ['iat in the future', { iat: 'FUTURE' }],
    ['iat missing', { iat: undefined }],
    ['jti missing', { jti: undefined }],
    ['sub missing', { sub: undefined }],
    ['tv missing', { tv: undefined }],
    ['tv a string', { tv: '0' }],
  ])('J7 %s', async (_what, overrides) => {
    const future = nowSeconds() + 3600;
    const claims = Object.fromEntries(Object.entries(overrides).map(([key, value]) => [key, value === 'FUTURE' ? future : value]));
    await expectRefusedAt(place, await craft(type, { claims }), 'TOKEN_INVALID');
  });

  it.each([
    ['wrong', 'https://evil.example'],
    ['another token type’s', 'OTHER_TYPE'],
    ['missing', undefined],
    ['empty', ''],
    ['an array with an untrusted extra', 'OURS_AND_EVIL'],
    ['an array of only untrusted values', ['gatehouse:evil']],
    ['an empty array', []],
    ['an object', { $ne: null }],
  ])('J8 aud %s', async (_what, aud) => {
    const ours = TOKEN_TYPES[type].audience;
    const other = TOKEN_TYPES[type === 'api' ? 'session' : 'api'].audience;
    const value = aud === 'OTHER_TYPE' ? other : aud === 'OURS_AND_EVIL' ? [ours, 'https://evil.example'] : aud;
    await expectRefusedAt(place, await craft(type, { claims: { aud: value } }), 'TOKEN_INVALID');
  });

  it.each([
    ['wrong', 'https://evil.example'],
    ['missing', undefined],
    ['with a trailing slash', `${TEST_ORIGIN}/`],
    ['in another case', TEST_ORIGIN.toUpperCase()],
    ['the upstream IdP', 'IDP'],
    ['an array', [TEST_ORIGIN]],
  ])('J9 iss %s', async (_what, iss) => {
    const value = iss === 'IDP' ? inject('stack').idpIssuer : iss;
    await expectRefusedAt(place, await craft(type, { claims: { iss: value } }), 'TOKEN_INVALID');
  });

  it.each([
    ['an unknown extension', { crit: ['x-gatehouse-admin'], 'x-gatehouse-admin': true }],
    ['a listed but absent extension', { crit: ['exp'] }],
    ['an empty list', { crit: [] }],
    ['not a list', { crit: 'x-custom' }],
    ['b64 false (unencoded payload)', { crit: ['b64'], b64: false }],
  ])('J14 crit with %s', async (_what, header) => {
    await expectRefusedAt(place, await craft(type, { header }), 'TOKEN_INVALID');
  });

  it('J15 malformed: 1, 2, 4 or 5 segments, empty segments, bad base64, non-JSON and non-object parts', async () => {
    const valid = await craft(type);
    const [h, p, s] = valid.split('.') as [string, string, string];
    const malformed = [
      h,
      `${h}.${p}`,
      `${h}.${p}.${s}.${s}`,
      `${h}.${p}.${s}.${s}.${s}`,
      '..',
      `.${p}.${s}`,
      `${h}..${s}`,
      `${h}.${p}.${s}=`,
      `${h}=.${p}.${s}`,
      `${h}.${p.replaceAll('-', '+').replaceAll('_', '/')}+/.${s}`,
      `${h}.!!!.${s}`,
      `${h}.${p}%20.${s}`,
      `${h}.${p.slice(0, -1)}.${s}`,
      `${enc('not json')}.${p}.${s}`,
      `${h}.${enc('not json')}.${s}`,
      `${h}.${enc('{"sub":')}.${s}`,
    ];
    for (const token of malformed) await expectRefusedAt(place, token, 'TOKEN_INVALID');
  });

  it.each([
    ['an array payload', 'claims', 'ARRAY'],
    ['a number payload', 'claims', '42'],
    ['a string payload', 'claims', '"alice"'],
    ['a null payload', 'claims', 'null'],
    ['an array header', 'header', 'ARRAY'],
  ] as const)('J15 %s with a valid signature', async (_what, part, text) => {
    const valid = part === 'claims' ? baseClaims(type) : baseHeader(type);
    const raw = text === 'ARRAY' ? JSON.stringify([valid]) : text;
    await expectRefusedAt(place, await craft(type, { [part]: raw }), 'TOKEN_INVALID');
  });

  it.each([
    ['aud', (claims: string, type: TokenType) => claims.replace('{', `{"aud":"${TOKEN_TYPES[type].audience}",`)],
    ['sub', (claims: string) => claims.replace('{', '{"sub":"somebody-else",')],
    ['tv', (claims: string) => claims.replace('{', '{"tv":7,')],
  ])('J15 duplicate "%s" key in the payload, validly signed', async (_key, duplicate) => {
    const claims = duplicate(JSON.stringify(baseClaims(type)), type);
    await expectRefusedAt(place, await craft(type, { claims }), 'TOKEN_INVALID');
  });

  it('J15 duplicate "alg" and "typ" keys in the header, validly signed', async () => {
    const header = JSON.stringify(baseHeader(type));
    await expectRefusedAt(place, await craft(type, { header: header.replace('{', '{"alg":"none",') }), 'TOKEN_INVALID');
    await expectRefusedAt(place, await craft(type, { header: header.replace('{', '{"typ":"JWT",') }), 'TOKEN_INVALID');
  });

  it('J16 an oversized token (9 KB, just over the 8 KB cap but within the header limit) is refused', async () => {
    const token = await craft(type, { claims: { pad: 'x'.repeat(9 * 1024) } });
    await expectRefusedAt(place, token, place === COOKIE ? 'UNAUTHENTICATED' : 'TOKEN_INVALID');
  });
});

describe('J10 token-type confusion: every type at every other type’s place', () => {
  const TYPES = ['session', 'api', 'access', 'invitation', 'upstream ID token'] as const;
  const tokens = new Map<(typeof TYPES)[number], string>();

  beforeAll(async () => {
    const scope = ['profile:read', 'sessions:read', 'sessions:revoke'];
    const mint = async (type: TokenType, extra: object) =>
      (await t.services.issuer.mint(type, { sub: alice._id, tokenVersion: 0, ttlSeconds: 600, ...extra })).token;
    tokens.set('session', await mint('session', { sid: aliceSessionId }));
    // Its own API session: revoking this token (below) must not end alice's aliceApi token.
    tokens.set('api', await mint('api', { sid: (await issueApiToken(t, alice)).sessionId, scope }));
    tokens.set('access', await mint('access', { sid: aliceSessionId, scope, clientId: 'gatehouse-extension', jkt: 'A'.repeat(43) }));
    tokens.set('invitation', await mint('invitation', {}));
    tokens.set('upstream ID token', await upstreamIdToken());
    for (const token of tokens.values()) watch.add('minted token', token);
  });

  it.each(TYPES)('%s at the Bearer route: accepted only for an API token', async (type) => {
    const token = tokens.get(type) ?? '';
    if (type === 'api') await expectAcceptedAt(BEARER, token);
    else await expectRefusedAt(BEARER, token, 'TOKEN_INVALID');
  });

  it.each(TYPES)('%s in the session cookie: accepted only for a browser session token', async (type) => {
    const token = tokens.get(type) ?? '';
    if (type === 'session') await expectAcceptedAt(COOKIE, token);
    else await expectRefusedAt(COOKIE, token, 'TOKEN_INVALID');
  });

  it.each(TYPES)('%s at introspection: active only for API and access tokens', async (type) => {
    const body = await introspect(tokens.get(type) ?? '');
    if (type === 'api' || type === 'access') {
      expect(body).toMatchObject({ active: true, sub: alice._id, aud: TOKEN_TYPES[type].audience });
    } else {
      expect(body).toEqual({ active: false });
    }
  });

  it.each(TYPES)('%s at /oauth/revoke: only an API or access token is revoked; the others stay valid', async (type) => {
    const response = await t.http
      .post('/oauth/revoke')
      .type('form')
      .send({ token: tokens.get(type) ?? '' });
    expect(response.status, response.text).toBe(200);
    if (type === 'session') await expectAcceptedAt(COOKIE, tokens.get('session') ?? '');
  });
});

/** An ID token the dev IdP issued for alice (authorization code + PKCE, redeemed by hand). */
async function upstreamIdToken(): Promise<string> {
  const stack = inject('stack');
  const discovery = (await (await fetch(`${stack.idpIssuer}/.well-known/openid-configuration`)).json()) as {
    authorization_endpoint: string;
    token_endpoint: string;
  };
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = `${TEST_ORIGIN}/auth/dev/callback`;
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: stack.idpClientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    state: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const back = new URL(await signInAtDevIdp(url, ALICE));
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${stack.idpClientId}:${stack.idpClientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') ?? '',
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }),
  });
  const { id_token } = (await response.json()) as { id_token: string };
  expect(id_token.split('.')).toHaveLength(3);
  return id_token;
}

describe('J11–J13 revocation facts', () => {
  /** A fresh user with a browser session (cookie) and an API token (Bearer), both working. */
  async function person(): Promise<{ user: User; cookie: string; sessionId: string; api: { token: string; sessionId: string } }> {
    const user = await createUser(t);
    const browser = await startBrowserSession(t, user);
    const api = await issueApiToken(t, user);
    await expectAcceptedAt(COOKIE, browser.token);
    await expectAcceptedAt(BEARER, api.token);
    return { user, cookie: browser.cookie, sessionId: browser.sessionId, api };
  }
  const adminHeaders = async () => ({ Cookie: aliceCookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': await csrfTokenOf(t, aliceCookie) });

  it('J11 after an admin revoke-all (tokenVersion bump) every old token is refused, and a stale tv alone is enough', async () => {
    const carol = await person();
    const response = await t.http.post(`/api/v1/users/${carol.user._id}/sessions/revoke-all`).set(await adminHeaders());
    expect(response.status, response.text).toBe(200);
    await expectRefusedAt(COOKIE, carol.cookie.split('=')[1] ?? '', 'TOKEN_REVOKED');
    await expectRefusedAt(BEARER, carol.api.token, 'TOKEN_REVOKED');

    // A new session after the bump: its token with the new tv works; the same session with the old tv does not.
    const fresh = await startBrowserSession(t, carol.user);
    await expectAcceptedAt(COOKIE, fresh.token);
    const stale = await t.services.issuer.mint('session', { sub: carol.user._id, tokenVersion: 0, sid: fresh.sessionId, ttlSeconds: 600 });
    await expectRefusedAt(COOKIE, stale.token, 'TOKEN_REVOKED');
    const apiAfter = await issueApiToken(t, carol.user);
    const staleApi = await t.services.issuer.mint('api', {
      sub: carol.user._id,
      tokenVersion: 0,
      sid: apiAfter.sessionId,
      scope: ['sessions:read'],
      ttlSeconds: 600,
    });
    await expectRefusedAt(BEARER, staleApi.token, 'TOKEN_REVOKED');
    await expectAcceptedAt(BEARER, apiAfter.token);
  });

  it('J12 an API token after POST /oauth/revoke is refused', async () => {
    const dave = await person();
    const response = await t.http.post('/oauth/revoke').type('form').send({ token: dave.api.token });
    expect(response.status).toBe(200);
    await expectRefusedAt(BEARER, dave.api.token, 'TOKEN_REVOKED');
    expect((await introspect(dave.api.token)).active).toBe(false);
    await expectAcceptedAt(COOKIE, dave.cookie.split('=')[1] ?? ''); // other sessions are untouched
  });

  it('J12 a session cookie after logout is refused', async () => {
    const erin = await person();
    const csrf = t.services.csrf.forSession(erin.sessionId);
    const response = await t.http.post('/api/v1/login/logout').set({ Cookie: erin.cookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': csrf });
    expect(response.status, response.text).toBe(204);
    await expectRefusedAt(COOKIE, erin.cookie.split('=')[1] ?? '', 'TOKEN_REVOKED');
    await expectAcceptedAt(BEARER, erin.api.token);
  });

  it('J12 the jti denylist alone: a denied token is refused while a sibling of the same session still works', async () => {
    const frank = await person();
    for (const [place, sid] of [
      [COOKIE, frank.sessionId],
      [BEARER, frank.api.sessionId],
    ] as const) {
      const extra = place === BEARER ? { scope: ['sessions:read'] } : {};
      const denied = await t.services.issuer.mint(place.type, { sub: frank.user._id, tokenVersion: 0, sid, ttlSeconds: 600, ...extra });
      const sibling = await t.services.issuer.mint(place.type, { sub: frank.user._id, tokenVersion: 0, sid, ttlSeconds: 600, ...extra });
      await expectAcceptedAt(place, denied.token);
      await t.services.revocation.denyToken(denied.claims.jti, new Date(denied.claims.exp * 1000));
      await expectRefusedAt(place, denied.token, 'TOKEN_REVOKED');
      await expectAcceptedAt(place, sibling.token);
    }
  });

  it('J12 an access token after POST /oauth/revoke is inactive (denylist only; its session lives on)', async () => {
    const gina = await person();
    const mint = () =>
      t.services.issuer.mint('access', {
        sub: gina.user._id,
        tokenVersion: 0,
        sid: gina.sessionId,
        scope: ['sessions:read'],
        clientId: 'ext',
        jkt: 'B'.repeat(43),
        ttlSeconds: 600,
      });
    const [revoked, sibling] = [await mint(), await mint()];
    expect((await introspect(revoked.token)).active).toBe(true);
    expect((await t.http.post('/oauth/revoke').type('form').send({ token: revoked.token })).status).toBe(200);
    expect(await introspect(revoked.token)).toEqual({ active: false });
    expect((await introspect(sibling.token)).active).toBe(true);
  });

  it.each(['disabled', 'banned'] as const)('J13 every token of a %s user is refused', async (status) => {
    const harry = await person();
    const updated = await t.db
      .collection<User>('users')
      .findOneAndUpdate({ _id: harry.user._id }, { $set: { status } }, { returnDocument: 'after' });
    await t.services.revocation.userChanged(harry.user._id, { tokenVersion: updated?.tokenVersion ?? 0, status });
    await expectRefusedAt(COOKIE, harry.cookie.split('=')[1] ?? '', 'TOKEN_ACCOUNT_DISABLED');
    await expectRefusedAt(BEARER, harry.api.token, 'TOKEN_ACCOUNT_DISABLED');
    expect((await introspect(harry.api.token)).active).toBe(false);
  });

  it('J13 a token of a user that no longer exists is refused', async () => {
    const ivy = await person();
    await t.db.collection<User>('users').deleteOne({ _id: ivy.user._id });
    await t.redis.del(`auth:user:${ivy.user._id}`);
    await expectRefusedAt(BEARER, ivy.api.token, 'TOKEN_INVALID');
  });
});

describe('J16 oversized tokens are refused fast', () => {
  // Through the server main.ts runs (http/server.ts), whose answer to over-long headers the
  // client can read; a bare Node server resets such connections on Node 22+.
  let server: Server;
  let http: ReturnType<typeof supertest>;
  beforeAll(async () => {
    server = createHttpServer(t.callback).listen(0, '127.0.0.1');
    await once(server, 'listening');
    http = supertest(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const sendTo: Record<string, (token: string) => Promise<Response>> = {
    [BEARER.name]: (token) => http.get('/api/v1/me/sessions').set('Authorization', `Bearer ${token}`),
    [COOKIE.name]: (token) => http.get('/api/v1/me').set('Cookie', `__Host-gatehouse=${token}`),
  };

  it('100 KB tokens in the Authorization header or the cookie: a 4xx, never a 5xx, all answered in seconds', async () => {
    const huge = `${enc(baseHeader('api'))}.${'A'.repeat(100 * 1024)}.${'B'.repeat(86)}`;
    const started = Date.now();
    for (let i = 0; i < 10; i++) {
      for (const place of PLACES) {
        const response = await (sendTo[place.name] ?? place.send)(huge);
        // Node refuses headers over 16 KB itself (431); anything smaller reaches the 8 KB cap (401).
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
      }
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    const form = await t.http
      .post('/oauth/introspect')
      .auth(RESOURCE_SERVER.id, RESOURCE_SERVER.secret)
      .type('form')
      .send({ token: huge.slice(0, 60_000) });
    expect(form.status).toBeGreaterThanOrEqual(400);
    expect(form.status).toBeLessThan(500);
  });
});

describe('J17 where a token may come from', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer(t.callback).listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** One request written byte by byte, so that repeated headers reach the server as sent. */
  function raw(path: string, headers: [string, string][]): Promise<{ status: number; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString('utf8');
      });
      socket.on('error', reject);
      socket.on('end', () => {
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1]);
        const body = data.slice(data.indexOf('\r\n\r\n') + 4);
        resolve({ status, body: body ? (JSON.parse(body) as Record<string, unknown>) : {} });
      });
      const lines = [
        `GET ${path} HTTP/1.1`,
        'Host: 127.0.0.1',
        ...headers.map(([name, value]) => `${name}: ${value}`),
        'Connection: close',
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
  }

  it.each([
    ['access_token', '/api/v1/me/sessions?access_token='],
    ['token', '/api/v1/me/sessions?token='],
    ['access_token on the cookie route', '/api/v1/me?access_token='],
    ['the cookie name', '/api/v1/me?__Host-gatehouse='],
  ])('a valid token in the query string (%s) is ignored: 401 UNAUTHENTICATED', async (_what, path) => {
    const token = path.startsWith('/api/v1/me?') ? (aliceCookie.split('=')[1] ?? '') : aliceApi.token;
    const response = await t.http.get(`${path}${token}`);
    expectProblem(response, 401, 'UNAUTHENTICATED');
  });

  it.each([
    ['an empty Bearer', 'Bearer '],
    ['Bearer alone', 'Bearer'],
    ['Bearer with two spaces', 'Bearer  API'],
    ['Bearer with a trailing token', 'Bearer API extra'],
    ['Basic with alice’s credentials', `Basic ${Buffer.from('alice@example.com:alice-password').toString('base64')}`],
    ['Basic carrying the API token', `Basic ${Buffer.from('API').toString('base64')}`],
    ['the API token as Basic', 'Basic API'],
    ['the bare API token', 'API'],
    ['Bootstrap', 'Bootstrap API'],
  ])('%s is refused with 401 TOKEN_INVALID and a Bearer challenge', async (_what, value) => {
    const response = await t.http.get('/api/v1/me/sessions').set('Authorization', value.replaceAll('API', aliceApi.token));
    expectProblem(response, 401, 'TOKEN_INVALID');
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('an API token under the DPoP scheme is refused with 401 TOKEN_INVALID and a DPoP challenge', async () => {
    // DPoP is for the access tokens of paired clients (typ at+jwt); an API token is not one.
    const response = await t.http.get('/api/v1/me/sessions').set('Authorization', `DPoP ${aliceApi.token}`);
    expectProblem(response, 401, 'TOKEN_INVALID');
    expect(response.headers['www-authenticate']).toMatch(/^DPoP .*error="invalid_token"/);
  });

  it('a bad Authorization header is not rescued by a valid cookie', async () => {
    const response = await t.http.get('/api/v1/me').set('Authorization', 'Bearer garbage').set('Cookie', aliceCookie);
    expectProblem(response, 401, 'TOKEN_INVALID');
  });

  it('two Authorization headers (valid + garbage, garbage + valid, valid twice) → 401 TOKEN_INVALID', async () => {
    const valid = `Bearer ${aliceApi.token}`;
    expect((await raw('/api/v1/me/sessions', [['Authorization', valid]])).status).toBe(200); // control
    for (const pair of [
      [valid, 'Bearer garbage'],
      ['Bearer garbage', valid],
      [valid, valid],
      [valid, 'Basic eDp5'],
    ]) {
      const response = await raw(
        '/api/v1/me/sessions',
        pair.map((value) => ['Authorization', value] as [string, string]),
      );
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('TOKEN_INVALID');
    }
    const mixedCase = await raw('/api/v1/me/sessions', [
      ['authorization', valid],
      ['AUTHORIZATION', valid],
    ]);
    expect(mixedCase.status).toBe(401);
  });

  it('two session cookies (the real one and a planted one, either order) → 401 UNAUTHENTICATED', async () => {
    const planted = '__Host-gatehouse=planted.by.attacker';
    for (const cookie of [`${aliceCookie}; ${planted}`, `${planted}; ${aliceCookie}`, `${aliceCookie}; ${aliceCookie}`]) {
      expectProblem(await t.http.get('/api/v1/me').set('Cookie', cookie), 401, 'UNAUTHENTICATED');
    }
    const split = await raw('/api/v1/me', [
      ['Cookie', aliceCookie],
      ['Cookie', planted],
    ]);
    expect(split.status).toBe(401);
  });
});

// Last but one: pruning kills every token signed so far, alice's real credentials included.
describe('J4 kid of a retired and pruned key', () => {
  it('a token signed by a key that was pruned is refused at both places, even after it was used (and cached)', async () => {
    const oldKid = t.services.keyring.signingKey().kid;
    const bearer = await craft('api');
    const cookie = await craft('session');
    await expectAcceptedAt(BEARER, bearer);
    await expectAcceptedAt(COOKIE, cookie);

    await runKeysCommand(t.deps, t.services.audit, ['rotate'], 0);
    await t.services.keyring.reload();
    expect(t.services.keyring.signingKey().kid).not.toBe(oldKid);
    await expectAcceptedAt(BEARER, bearer); // retired, not pruned: still trusted
    await sleep(5); // prune drops keys retired strictly before now - 0 ms
    const { lines } = await runKeysCommand(t.deps, t.services.audit, ['prune'], 0);
    expect(lines).toEqual([`pruned ${oldKid}`]);
    await t.services.keyring.reload();

    await expectRefusedAt(BEARER, bearer, 'TOKEN_INVALID');
    await expectRefusedAt(COOKIE, cookie, 'TOKEN_INVALID');
    await expectAcceptedAt(BEARER, await craft('api')); // the new key signs and verifies
  });
});

describe('after all of the above', () => {
  it('the process still serves, fresh credentials work, and no token reached the logs', async () => {
    expect((await t.http.get('/api/v1/me').set('Cookie', (await startBrowserSession(t, alice)).cookie)).status).toBe(200);
    expect((await BEARER.send((await issueApiToken(t, alice)).token)).status).toBe(200);
    expect(t.logLines.some((line) => line.includes('"http.rejected"') && line.includes('TOKEN_INVALID'))).toBe(true);
    expect(t.logLines.some((line) => /"level":"(error|fatal)"/.test(line))).toBe(false); // no error-level line: nothing was a 500
    watch.expectNoSecretInLogs();
  });
});
