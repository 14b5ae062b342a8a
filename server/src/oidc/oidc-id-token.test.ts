// docs/security-tests.md O4–O10 and a slow IdP: what Gatehouse does with a provider that answers badly.
// The provider is server/test/rogue-idp.ts, a small real OIDC provider whose discovery
// document, ID token and keys each test bends; sign-in goes through the real app.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RogueApp, rogueDefaults, signInAtRogue, startRogueApp } from '../../test/rogue-idp.js';
import { ALICE, authorizeAtIdp, callbackJson, cookieFrom, expectRefused, SESSION_COOKIE, startLogin } from '../../test/sign-in.js';

const rejected = { status: 400, code: 'LOGIN_REJECTED', audit: { action: 'login.failed', reason: 'response_rejected' } } as const;

/**
 * A rogue sign-in that must be refused as LOGIN_REJECTED. `at` says where: `id-token` — the
 * provider did issue an ID token (so client authentication and PKCE passed and the token
 * itself was refused); `before-token` — refused before the code was redeemed.
 */
async function expectRejected(s: RogueApp, at: 'id-token' | 'before-token', options: Parameters<typeof signInAtRogue>[1] = {}) {
  const issuedBefore = s.idp.issuedIdTokens.length;
  await expectRefused(s.t, async () => (await signInAtRogue(s, options)).response, rejected);
  expect(s.idp.issuedIdTokens.length - issuedBefore).toBe(at === 'id-token' ? 1 : 0);
}

function expectSignedIn(response: { status: number; text: string; headers: Record<string, unknown> }) {
  expect(response.status, response.text).toBe(302);
  expect(response.headers.location).toBe('/account');
  expect(cookieFrom(response.headers['set-cookie'] as string[], SESSION_COOKIE)).not.toBeNull();
}

describe('a provider whose ID tokens are bad', () => {
  let s: RogueApp;
  beforeAll(async () => {
    s = await startRogueApp();
  });
  beforeEach(() => {
    s.idp.behaviour = rogueDefaults();
  });
  afterEach(() => s.watch.expectNotLeaked(s.t));
  afterAll(() => s.close());

  it('signs in when the provider behaves (the control case)', async () => {
    const { response } = await signInAtRogue(s);
    expectSignedIn(response);
  });

  it.each([
    ['a wrong nonce', { claims: { nonce: 'x' } }],
    ['no nonce', { omit: ['nonce'] }],
  ] as const)('O4 nonce: an ID token with %s opens no session', async (_name, behaviour) => {
    Object.assign(s.idp.behaviour, behaviour);
    await expectRejected(s, 'id-token');
  });

  it('O5 iss parameter: a callback whose iss is not the provider issuer opens no session', async () => {
    const bend = (back: URL) => back.searchParams.set('iss', 'https://evil.example');
    await expectRejected(s, 'before-token', { bend });
  });

  it('O5 iss parameter: a callback without iss from a provider that advertises it opens no session', async () => {
    const bend = (back: URL) => back.searchParams.delete('iss');
    await expectRejected(s, 'before-token', { bend });
  });

  it('O6 mix-up: a response meant for provider rogue delivered to /auth/dev/callback opens no session', async () => {
    // Both sign-ins started in one browser, so only the provider binding can tell them apart.
    const rogueLogin = await startLogin(s.t, { provider: 'rogue' });
    const devLogin = await startLogin(s.t, { provider: 'dev', cookie: rogueLogin.loginCookie });
    expect(devLogin.loginCookie).toBe(rogueLogin.loginCookie);
    await s.watch.addLogin(s.t, rogueLogin);
    await s.watch.addLogin(s.t, devLogin);
    const back = s.idp.authorize(rogueLogin.location);
    s.watch.addCallback(back);
    back.pathname = '/auth/dev/callback';
    const issuedBefore = s.idp.issuedIdTokens.length;
    await expectRefused(s.t, () => callbackJson(s.t, back, rogueLogin.loginCookie), {
      status: 400,
      code: 'LOGIN_STATE_INVALID',
      audit: { action: 'login.failed', reason: 'state_provider_mismatch' },
    });
    // Refused before any code was redeemed, at either provider.
    expect(s.idp.issuedIdTokens.length).toBe(issuedBefore);
  });

  it('O6 mix-up: a response of the dev IdP delivered to /auth/rogue/callback opens no session', async () => {
    const devLogin = await startLogin(s.t, { provider: 'dev' });
    await startLogin(s.t, { provider: 'rogue', cookie: devLogin.loginCookie });
    await s.watch.addLogin(s.t, devLogin);
    const back = await authorizeAtIdp(devLogin, ALICE);
    s.watch.addCallback(back);
    back.pathname = '/auth/rogue/callback';
    await expectRefused(s.t, () => callbackJson(s.t, back, devLogin.loginCookie), {
      status: 400,
      code: 'LOGIN_STATE_INVALID',
      audit: { action: 'login.failed', reason: 'state_provider_mismatch' },
    });
  });

  it.each([
    ['a wrong iss', { claims: { iss: 'https://evil.example' } }],
    ['a wrong aud', { claims: { aud: 'someone-else' } }],
    ['an aud array with an untrusted extra audience and no azp', { claims: { aud: ['rogue-client', 'someone-else'] } }],
    // openid-client accepts this one (azp names us); Gatehouse must refuse it itself.
    [
      'an aud array with an untrusted extra audience and azp = our client',
      { claims: { aud: ['rogue-client', 'someone-else'], azp: 'rogue-client' } },
    ],
    [
      'an aud array with an untrusted extra audience and a foreign azp',
      { claims: { aud: ['rogue-client', 'someone-else'], azp: 'someone-else' } },
    ],
    ['no sub', { omit: ['sub'] }],
    ['no iat', { omit: ['iat'] }],
    ['no exp', { omit: ['exp'] }],
    ['an exp an hour ago', { claims: { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 } }],
    ['a sub that is not a string', { claims: { sub: 42 } }],
  ] as const)('O7 ID token with %s opens no session', async (_name, behaviour) => {
    Object.assign(s.idp.behaviour, behaviour);
    await expectRejected(s, 'id-token');
  });

  it.each([
    ['signed by a key the provider never published', 'unknown-key'],
    ['with alg none', 'none'],
    ['signed HS256 with the client secret', 'HS256-client-secret'],
  ] as const)('O8 ID token %s opens no session', async (_name, alg) => {
    s.idp.behaviour.alg = alg;
    await expectRejected(s, 'id-token');
  });

  it('O9 key rotation: after the provider rotates its key the next sign-in succeeds after one JWKS refresh', async () => {
    expectSignedIn((await signInAtRogue(s)).response);
    const fetchesBefore = s.idp.jwksFetches;
    await s.idp.rotateKey();
    // openid-client refetches the JWKS for an unknown kid only when its copy is at least 60 s
    // old (a cool-down against kid flooding); move Date.now past it instead of waiting.
    const realNow = Date.now.bind(Date);
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 61_000);
    try {
      expectSignedIn((await signInAtRogue(s)).response);
    } finally {
      spy.mockRestore();
    }
    expect(s.idp.jwksFetches).toBe(fetchesBefore + 1);
  });

  it('O9 key rotation: within the 60 s JWKS cool-down a token signed by a new key is refused, without refetching', async () => {
    // Fail closed: an unknown kid is never trusted unverified, and a flood of them cannot make
    // Gatehouse hammer the provider's JWKS endpoint.
    expectSignedIn((await signInAtRogue(s)).response);
    await s.idp.rotateKey();
    const fetchesBefore = s.idp.jwksFetches;
    await expectRejected(s, 'id-token');
    await expectRejected(s, 'id-token');
    expect(s.idp.jwksFetches).toBe(fetchesBefore);
  });
});

describe('a provider that does not advertise the RFC 9207 iss parameter', () => {
  let s: RogueApp;
  beforeAll(async () => {
    s = await startRogueApp({ advertiseIss: false });
  });
  afterEach(() => s.watch.expectNotLeaked(s.t));
  afterAll(() => s.close());

  it('O5 iss parameter: a callback without iss is accepted when the provider does not advertise it', async () => {
    const { response } = await signInAtRogue(s, { bend: (back) => back.searchParams.delete('iss') });
    expectSignedIn(response);
  });

  it('O5 iss parameter: a wrong iss is still refused when the provider does not advertise it', async () => {
    const bend = (back: URL) => back.searchParams.set('iss', 'https://evil.example');
    await expectRejected(s, 'before-token', { bend });
  });
});

describe('a provider whose discovery document names another issuer', () => {
  let s: RogueApp;
  beforeAll(async () => {
    s = await startRogueApp({ discoveryIssuer: 'https://evil.example' });
  });
  afterEach(() => s.watch.expectNotLeaked(s.t));
  afterAll(() => s.close());

  it('O10 discovery issuer mismatch: the provider is refused with 503 PROVIDER_UNAVAILABLE at login, no redirect', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await expectRefused(s.t, () => s.t.http.get('/auth/rogue/login').set('Accept', 'application/json'), {
        status: 503,
        code: 'PROVIDER_UNAVAILABLE',
        audit: null,
      });
      expect(response.headers.location).toBeUndefined();
      expect(response.headers['set-cookie']).toBeUndefined();
    }
    expect(s.t.logLines.some((line) => line.includes('oidc.discovery_failed') && line.includes('"provider":"rogue"'))).toBe(true);
    // The other provider is unaffected.
    expect((await s.t.http.get('/auth/dev/login')).status).toBe(302);
  });
});

describe('a provider whose token endpoint is slower than OIDC_HTTP_TIMEOUT_MS', () => {
  // 1000 ms as the brief asks; 300 ms checks the timeout is honoured below a whole second.
  it.each([1000, 300])(
    'B7 IdP slow: with a %i ms timeout the callback answers 503 PROVIDER_UNAVAILABLE within it and opens no session',
    async (timeoutMs) => {
      const s = await startRogueApp({ tokenDelayMs: 4_000 }, { OIDC_HTTP_TIMEOUT_MS: String(timeoutMs) });
      try {
        const started = await startLogin(s.t, { provider: 'rogue' });
        await s.watch.addLogin(s.t, started);
        const back = s.idp.authorize(started.location);
        s.watch.addCallback(back);
        const begun = Date.now();
        await expectRefused(s.t, () => callbackJson(s.t, back, started.loginCookie), {
          status: 503,
          code: 'PROVIDER_UNAVAILABLE',
          audit: { action: 'login.failed', reason: 'provider_unreachable' },
        });
        // The slack covers a busy 2-core machine and stays far below the provider's 4 s delay.
        expect(Date.now() - begun).toBeLessThan(timeoutMs + 600);
        await s.watch.expectNotLeaked(s.t);
      } finally {
        await s.close();
      }
    },
  );
});
