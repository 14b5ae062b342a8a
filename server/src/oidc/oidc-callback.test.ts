// docs/security-tests.md O1–O3, O11, O14–O16 and N7: the SSO callback against the real development IdP.
// Every refusal is checked by expectRefused (no session, stable code, audit entry) and every
// test ends by checking that no state, code, nonce, verifier or client secret was logged.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/harness.js';
import {
  ALICE,
  authorizeAtIdp,
  BOB,
  callback,
  callbackJson,
  cookieFrom,
  expectRefused,
  SESSION_COOKIE,
  SecretWatch,
  type StartedLogin,
  startLogin,
} from '../../test/sign-in.js';

const stateInvalid = (reason: string) => ({ status: 400, code: 'LOGIN_STATE_INVALID', audit: { action: 'login.failed', reason } }) as const;

describe('the SSO callback', () => {
  let t: TestApp;
  const watch = new SecretWatch();

  beforeAll(async () => {
    t = await createTestApp();
    watch.add(t.config.providers.find((provider) => provider.id === 'dev')?.clientSecret);
  });
  afterEach(() => watch.expectNotLeaked(t));
  afterAll(() => t.close());

  /** Starts a sign-in (in a fresh browser unless a login cookie is given) and remembers its secrets. */
  async function begin(options: { cookie?: string; returnTo?: string } = {}): Promise<StartedLogin> {
    const started = await startLogin(t, options);
    await watch.addLogin(t, started);
    return started;
  }

  /** The person signs in at the IdP; returns the callback URL it sends the browser to. */
  async function authorize(started: StartedLogin, user = ALICE): Promise<URL> {
    const back = await authorizeAtIdp(started, user);
    watch.addCallback(back);
    return back;
  }

  const countSessions = () => t.db.collection('sessions').countDocuments();

  /** The IdP itself refused to redeem the code: its OAuth error body is the logged cause. */
  function expectIdpRefusedCode(response: { headers: Record<string, unknown> }) {
    const line = t.logLines.find(
      (candidate) => candidate.includes(String(response.headers['x-request-id'])) && candidate.includes('http.rejected'),
    );
    expect(line).toContain('ResponseBodyError');
  }

  it('O1 missing state: a callback without state opens no session', async () => {
    const back = await authorize(await begin());
    back.searchParams.delete('state');
    await expectRefused(t, () => callbackJson(t, back, null), stateInvalid('state_missing'));
  });

  it('O1 empty state: a callback with state= opens no session', async () => {
    const started = await begin();
    const back = await authorize(started);
    back.searchParams.set('state', '');
    await expectRefused(t, () => callbackJson(t, back, started.loginCookie), {
      status: 400,
      code: 'VALIDATION_FAILED',
      audit: { action: 'login.failed', reason: 'callback_invalid' },
    });
  });

  it('O1 wrong state: a callback whose state was never issued opens no session', async () => {
    const started = await begin();
    const back = await authorize(started);
    back.searchParams.set('state', randomBytes(32).toString('base64url'));
    await expectRefused(t, () => callbackJson(t, back, started.loginCookie), stateInvalid('state_unknown_or_used'));
  });

  it('O1 reused state: a state that already completed a sign-in opens no second session with a fresh code', async () => {
    const first = await begin();
    const firstBack = await authorize(first);
    expect((await callback(t, firstBack, first.loginCookie)).status).toBe(302);
    // Same browser, a new login at the IdP: its code, but the spent state of the first one.
    const second = await begin({ cookie: first.loginCookie });
    const back = await authorize(second);
    back.searchParams.set('state', first.state);
    await expectRefused(t, () => callbackJson(t, back, first.loginCookie), stateInvalid('state_unknown_or_used'));
  });

  it.each(['state', 'code', 'iss'])('O2 duplicated parameters: a callback with %s twice opens no session', async (name) => {
    const started = await begin();
    const back = await authorize(started);
    back.searchParams.append(name, name === 'state' ? randomBytes(32).toString('base64url') : 'other');
    await expectRefused(t, () => callbackJson(t, back, started.loginCookie), {
      status: 400,
      code: 'PARAMETER_DUPLICATED',
      audit: { action: 'login.failed', reason: 'parameter_duplicated' },
    });
  });

  it('O2 duplicated parameters: the same value twice is refused as well', async () => {
    const started = await begin();
    const back = await authorize(started);
    back.search = `${back.search}&state=${encodeURIComponent(started.state)}`;
    await expectRefused(t, () => callbackJson(t, back, started.loginCookie), {
      status: 400,
      code: 'PARAMETER_DUPLICATED',
      audit: { action: 'login.failed', reason: 'parameter_duplicated' },
    });
  });

  it('O3 code replay: a second callback with the same code and state opens no session', async () => {
    const started = await begin();
    const back = await authorize(started);
    const first = await callback(t, back, started.loginCookie);
    expect(first.status).toBe(302);
    expect(cookieFrom(first.headers['set-cookie'], SESSION_COOKIE)).not.toBeNull();
    await expectRefused(t, () => callbackJson(t, back, started.loginCookie), stateInvalid('state_unknown_or_used'));
  });

  it('O3 code replay: a redeemed code sent with a fresh state of the same browser is refused by the IdP', async () => {
    const first = await begin();
    const back = await authorize(first);
    expect((await callback(t, back, first.loginCookie)).status).toBe(302);
    const second = await begin({ cookie: first.loginCookie });
    back.searchParams.set('state', second.state);
    const response = await expectRefused(t, () => callbackJson(t, back, first.loginCookie), {
      status: 400,
      code: 'LOGIN_REJECTED',
      audit: { action: 'login.failed', reason: 'response_rejected' },
    });
    expectIdpRefusedCode(response);
  });

  it('O3 concurrent double callback: 10 callbacks with the same code, state and cookie open exactly one session', async () => {
    const started = await begin();
    const back = await authorize(started);
    const sessionsBefore = await countSessions();
    const responses = await Promise.all(Array.from({ length: 10 }, () => callbackJson(t, back, started.loginCookie)));

    const winners = responses.filter((response) => response.status === 302);
    expect(winners).toHaveLength(1);
    expect(winners[0]?.headers.location).toBe('/account');
    const losers = responses.filter((response) => response.status !== 302);
    for (const response of losers) {
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('LOGIN_STATE_INVALID');
      expect(cookieFrom(response.headers['set-cookie'], SESSION_COOKIE)).toBeNull();
    }
    expect(await countSessions()).toBe(sessionsBefore + 1);
    const requestIds = losers.map((response) => response.headers['x-request-id']);
    const audited = await t.db
      .collection('audit')
      .find({ requestId: { $in: requestIds }, action: 'login.failed', 'details.reason': 'state_unknown_or_used' })
      .toArray();
    expect(audited).toHaveLength(9);
  });

  it('O11 PKCE: a code issued for login A, sent with login B state and cookie, is refused (the IdP checks B verifier)', async () => {
    const loginA = await begin();
    // Gatehouse always sends an S256 challenge, so a code is only redeemable with its own verifier.
    expect(loginA.location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(loginA.location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const codeOfA = await authorize(loginA);
    const loginB = await begin();
    const injected = new URL(codeOfA);
    injected.searchParams.set('state', loginB.state);
    const response = await expectRefused(t, () => callbackJson(t, injected, loginB.loginCookie), {
      status: 400,
      code: 'LOGIN_REJECTED',
      audit: { action: 'login.failed', reason: 'response_rejected' },
    });
    expectIdpRefusedCode(response);
  });

  it('O14 error callback: error=access_denied opens no session and consumes the state', async () => {
    const started = await begin();
    const denied = new URL('/auth/dev/callback', t.config.publicOrigin);
    denied.searchParams.set('error', 'access_denied');
    denied.searchParams.set('error_description', 'The user said no');
    denied.searchParams.set('state', started.state);
    denied.searchParams.set('iss', t.config.providers[0]?.issuer ?? '');
    await expectRefused(t, () => callbackJson(t, denied, started.loginCookie), {
      status: 400,
      code: 'LOGIN_FAILED',
      audit: { action: 'login.failed', reason: 'provider_error' },
    });
    // The state is spent: a code the IdP issues for it afterwards cannot complete the sign-in.
    const back = await authorize(started);
    await expectRefused(t, () => callbackJson(t, back, started.loginCookie), stateInvalid('state_unknown_or_used'));
  });

  it('O15 expired state: a callback later than OIDC_STATE_TTL_SECONDS opens no session', async () => {
    const started = await begin();
    const back = await authorize(started);
    t.clock.advance((t.config.OIDC_STATE_TTL_SECONDS + 1) * 1000);
    try {
      await expectRefused(t, () => callbackJson(t, back, started.loginCookie), stateInvalid('state_expired'));
    } finally {
      t.clock.advance(-(t.config.OIDC_STATE_TTL_SECONDS + 1) * 1000);
    }
  });

  // The attacker signs in at the IdP in their own browser and makes the victim's browser
  // deliver the callback: whatever login cookie the victim's browser carries, it doesn't match.
  type CookieOf = (victim: StartedLogin, attacker: StartedLogin) => string | null;
  it.each<[string, CookieOf]>([
    ['without the login cookie', () => null],
    ['with another browser login cookie', (victim) => victim.loginCookie],
    ['with a forged login cookie', () => `__Host-gatehouse-login=${randomBytes(32).toString('base64url')}`],
    ['with two login cookies (one planted)', (victim, attacker) => `${attacker.loginCookie}; ${victim.loginCookie}`],
  ])('O16 login CSRF: the callback %s opens no session', async (_name, cookieFor) => {
    const victim = await begin();
    const attacker = await begin();
    const back = await authorize(attacker, BOB);
    await expectRefused(t, () => callbackJson(t, back, cookieFor(victim, attacker)), stateInvalid('state_browser_mismatch'));
  });

  it.each([
    '//evil.example',
    '/\\evil.example',
    'https:evil.example',
    'javascript:alert(1)',
    '%2F%2Fevil.example',
    'https://evil.example/',
  ])('N7 open redirect: return_to=%s lands on /account after sign-in', async (returnTo) => {
    const started = await begin({ returnTo });
    const response = await callback(t, await authorize(started), started.loginCookie);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/account');
  });

  it('N7 return_to: a same-origin path is honoured after sign-in', async () => {
    const started = await begin({ returnTo: '/account?tab=sessions' });
    const response = await callback(t, await authorize(started), started.loginCookie);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/account?tab=sessions');
  });

  it('an unknown provider is 404 PROVIDER_UNKNOWN at login and at the callback', async () => {
    const login = await t.http.get('/auth/nope/login').set('Accept', 'application/json');
    expect(login.status).toBe(404);
    expect(login.body.code).toBe('PROVIDER_UNKNOWN');
    expect(login.headers.location).toBeUndefined();
    await expectRefused(t, () => t.http.get('/auth/nope/callback?code=abc&state=def').set('Accept', 'application/json'), {
      status: 404,
      code: 'PROVIDER_UNKNOWN',
      audit: null,
    });
  });

  it('a refused callback asked for by a browser gets an HTML page that says what to do', async () => {
    const back = await authorize(await begin());
    const response = await callback(t, back, null).set('Accept', 'text/html');
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text).toContain('Please start again.');
    expect(response.text).toContain('href="/sign-in"');
  });
});

describe('the sign-in state in Redis', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ OIDC_STATE_TTL_SECONDS: '30' });
  });
  afterAll(() => t.close());

  it('O15 state TTL: the Redis record and the login cookie live OIDC_STATE_TTL_SECONDS (30 s), no longer', async () => {
    const started = await startLogin(t);
    const key = `oidc:state:${createHash('sha256').update(started.state).digest('base64url')}`;
    const ttl = await t.redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
    // Stored under a hash: the state value itself is not a Redis key.
    expect(await t.redis.exists(`oidc:state:${started.state}`)).toBe(0);
    const login = await t.http.get('/auth/dev/login');
    expect([login.headers['set-cookie']].flat().join('\n')).toMatch(/__Host-gatehouse-login=[^;]+;.*Max-Age=30/);
  });
});
