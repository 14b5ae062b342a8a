// Local passwords and TOTP (issue 12 items 1 and 2): docs/security-tests.md A1, A2, A3, A5, A6.
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { expectProblem } from '../../test/http-checks.js';
import { apiHeaders, codeAt, localUser, passwordStep, signInWithTotp } from '../../test/local-auth-support.js';
import { cookieFrom } from '../../test/sign-in.js';
import { hashPassword, verifyPassword } from './index.js';

const OWNER_PASSWORD = 'correct horse battery staple 42';
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ TRUST_PROXY_HOPS: '1', LOCAL_LOGIN: 'all' });
});
afterAll(() => t.close());

describe('password sign-in (A1)', () => {
  it('signs a plain user in with a password, audited, and the cookie opens the account', async () => {
    await localUser(t, 'plain@example.com', 'plain user password 1', ['user']);
    const response = await passwordStep(t, { email: 'PLAIN@example.com', password: 'plain user password 1' }, '10.0.0.1');
    expect(response.status, response.text).toBe(200);
    expect(response.body.status).toBe('signed_in');
    const cookie = cookieFrom(response.headers['set-cookie'], '__Host-gatehouse') ?? '';
    expect((await t.http.get('/api/v1/me').set('Cookie', cookie)).status).toBe(200);
    expect(await t.db.collection('audit').countDocuments({ action: 'password.login_succeeded' })).toBeGreaterThan(0);
  });

  it('answers an unknown email, a wrong password and an account without a password the same way, in similar time', async () => {
    await localUser(t, 'timing@example.com', 'timing password 123', ['user']);
    const cases = {
      unknown: { email: 'nobody@example.com', password: 'whatever password' },
      wrong: { email: 'timing@example.com', password: 'wrong password here' },
    };
    const times: Record<string, number[]> = { unknown: [], wrong: [] };
    const bodies = new Set<string>();
    for (let round = 0; round < 4; round++) {
      for (const [name, body] of Object.entries(cases)) {
        const started = performance.now();
        const response = await passwordStep(t, body, `10.1.${round}.${name.length}`);
        times[name]?.push(performance.now() - started);
        expectProblem(response, 401, 'CREDENTIALS_INVALID');
        const { requestId: _ignored, ...rest } = response.body;
        bodies.add(JSON.stringify(rest));
      }
    }
    expect(bodies.size, 'one body for every case').toBe(1);
    // Both pay one Argon2id verification: the medians are of the same order (not a speed test,
    // only "no shortcut": a missing dummy hash makes the unknown case ~100x faster).
    const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? 0;
    expect(median(times.unknown ?? [])).toBeGreaterThan(median(times.wrong ?? []) / 5);
    const failures = await t.db.collection('audit').find({ action: 'password.login_failed' }).toArray();
    expect(failures.map((entry) => entry.details?.reason)).toEqual(expect.arrayContaining(['unknown_account', 'wrong_password']));
  });

  it('refuses operators, arrays and unknown fields with 400, never a 500 (N1)', async () => {
    for (const body of [
      { email: { $ne: null }, password: 'x' },
      { email: 'a@example.com', password: ['a'] },
      { email: 'a@example.com', password: 'x', admin: true },
    ]) {
      expectProblem(await passwordStep(t, body, '10.2.0.1'), 400, 'VALIDATION_FAILED');
    }
  });

  it('is refused without our Origin (login CSRF)', async () => {
    const response = await t.http
      .post('/auth/password')
      .set('Origin', 'https://evil.example')
      .send({ email: 'x@example.com', password: 'y' });
    expectProblem(response, 403, 'ORIGIN_REJECTED');
  });

  it('only lets owners in with LOCAL_LOGIN=owner, and nobody with off', async () => {
    const ownerOnly = await createTestApp({ LOCAL_LOGIN: 'owner' });
    try {
      await localUser(ownerOnly, 'owner1@example.com', OWNER_PASSWORD);
      // A plain user cannot even be given a password.
      const { createUser } = await import('../../test/harness.js');
      const plain = await createUser(ownerOnly, { roles: ['user'] });
      await expect(ownerOnly.services.local.setPassword(plain, 'plain password 1234', undefined, 'cli')).rejects.toMatchObject({
        code: 'LOCAL_LOGIN_DISABLED',
      });
      const owner = await passwordStep(ownerOnly, { email: 'owner1@example.com', password: OWNER_PASSWORD });
      expect(owner.body.status).toBe('totp_enrolment_required');
    } finally {
      await ownerOnly.close();
    }
    const off = await createTestApp({ LOCAL_LOGIN: 'off' });
    try {
      expectProblem(await passwordStep(off, { email: 'a@example.com', password: 'whatever password' }), 403, 'LOCAL_LOGIN_DISABLED');
    } finally {
      await off.close();
    }
  });

  it('rehashes a password stored with older parameters on the next sign-in', async () => {
    const user = await localUser(t, 'rehash@example.com', 'rehash password 12', ['user']);
    const { hash } = await import('@node-rs/argon2');
    const old = await hash('rehash password 12', { memoryCost: 8192, timeCost: 1, parallelism: 1, algorithm: 2 as never });
    await t.db.collection('credentials').updateOne({ _id: user._id as never }, { $set: { passwordHash: old } });
    expect((await passwordStep(t, { email: 'rehash@example.com', password: 'rehash password 12' })).status).toBe(200);
    const stored = (await t.db.collection('credentials').findOne({ _id: user._id as never }))?.passwordHash as string;
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(stored, 'rehash password 12')).toBe(true);
  });
});

describe('password policy (A2)', () => {
  it('refuses empty, too short, too long and common passwords, and changes nothing', async () => {
    const { cookie } = await signInWithTotp(t, (await localUser(t, 'policy@example.com', OWNER_PASSWORD)).email ?? '', OWNER_PASSWORD);
    const headers = await apiHeaders(t, cookie);
    const before = (await t.db.collection('credentials').findOne({ email: undefined, passwordHash: { $exists: true } }))?.passwordHash;
    for (const newPassword of ['', 'short1', 'x'.repeat(129), 'password1234', 'Qwertyuiop123']) {
      const response = await t.http.post('/api/v1/me/password').set(headers).send({ currentPassword: OWNER_PASSWORD, newPassword });
      expectProblem(response, 400, 'PASSWORD_REJECTED');
    }
    expect((await t.db.collection('credentials').findOne({ email: undefined, passwordHash: { $exists: true } }))?.passwordHash).toBe(
      before,
    );
    expect((await passwordStep(t, { email: 'policy@example.com', password: OWNER_PASSWORD })).status).toBe(200);
  });

  it('never accepts a minimum below 8', async () => {
    const { loadConfig } = await import('../config/index.js');
    expect(() => loadConfig({ NODE_ENV: 'test', PASSWORD_MIN_LENGTH: '7' })).toThrow();
  });

  it('stores only an Argon2id hash', async () => {
    const stored = await hashPassword('a password to hash');
    expect(stored.startsWith('$argon2id$')).toBe(true);
    expect(stored).not.toContain('a password to hash');
  });
});

describe('brute force (A3)', () => {
  it('backs off per account after 5 failures, from any address, and lets the owner in once the wait is over', async () => {
    await localUser(t, 'victim@example.com', 'victim password 123', ['user']);
    for (let attempt = 0; attempt < 5; attempt++) {
      expectProblem(
        await passwordStep(t, { email: 'victim@example.com', password: `guess ${attempt} xxxxx` }, `10.3.0.${attempt}`),
        401,
        'CREDENTIALS_INVALID',
      );
    }
    expectProblem(
      await passwordStep(t, { email: 'victim@example.com', password: 'guess 6 xxxxxx' }, '10.3.1.1'),
      401,
      'CREDENTIALS_INVALID',
    );
    // Now blocked (1 s): even the right password from another address waits.
    expectProblem(await passwordStep(t, { email: 'victim@example.com', password: 'victim password 123' }, '10.3.2.2'), 429, 'RATE_LIMITED');
    const blocks = await t.redis.keys(`${t.config.REDIS_KEY_PREFIX}pwlimit:b:*`);
    const ttls = await Promise.all(blocks.map((key) => t.redis.ttl(key.slice(t.config.REDIS_KEY_PREFIX.length))));
    // Never a permanent lock: every block expires, and the longest possible is 15 minutes.
    for (const ttl of ttls) expect(ttl).toBeGreaterThan(0);
    for (const ttl of ttls) expect(ttl).toBeLessThanOrEqual(900);
    for (const key of blocks) await t.redis.del(key.slice(t.config.REDIS_KEY_PREFIX.length));
    expect((await passwordStep(t, { email: 'victim@example.com', password: 'victim password 123' }, '10.3.3.3')).status).toBe(200);
  });

  it('backs off per address across many accounts', async () => {
    for (let attempt = 0; attempt < 6; attempt++) {
      await passwordStep(t, { email: `spray${attempt}@example.com`, password: 'spray password 1' }, '10.4.0.1');
    }
    expectProblem(await passwordStep(t, { email: 'spray9@example.com', password: 'spray password 1' }, '10.4.0.1'), 429, 'RATE_LIMITED');
    // Another address is not affected.
    expectProblem(
      await passwordStep(t, { email: 'spray9@example.com', password: 'spray password 1' }, '10.4.0.2'),
      401,
      'CREDENTIALS_INVALID',
    );
  });

  it('caps the backoff at 15 minutes however many failures', async () => {
    const { LoginBackoff } = await import('./index.js');
    const backoff = new LoginBackoff(t.redis, 'cap-test');
    for (let i = 0; i < 40; i++) await backoff.recordFailure('capped@example.com', '10.5.0.1');
    const keys = await t.redis.keys(`${t.config.REDIS_KEY_PREFIX}cap-test:b:*`);
    expect(keys.length).toBe(2);
    for (const key of keys) expect(await t.redis.ttl(key.slice(t.config.REDIS_KEY_PREFIX.length))).toBeLessThanOrEqual(900);
  });
});

describe('TOTP (A5, A6)', () => {
  it('makes an owner enrol before any session, then asks for a code on every sign-in', async () => {
    await localUser(t, 'owner@example.com', OWNER_PASSWORD);
    const first = await passwordStep(t, { email: 'owner@example.com', password: OWNER_PASSWORD });
    expect(first.body.status).toBe('totp_enrolment_required');
    expect(cookieFrom(first.headers['set-cookie'], '__Host-gatehouse')).toBeNull();
    const enrolled = await signInWithTotp(t, 'owner@example.com', OWNER_PASSWORD);
    expect(enrolled.recoveryCodes).toHaveLength(10);
    expect(await t.db.collection('audit').countDocuments({ action: 'totp.enabled' })).toBeGreaterThan(0);
    t.clock.advance(31_000);
    const again = await passwordStep(t, { email: 'owner@example.com', password: OWNER_PASSWORD });
    expect(again.body.status).toBe('totp_required');
    await signInWithTotp(t, 'owner@example.com', OWNER_PASSWORD, enrolled.secret);
  });

  it('refuses a wrong code, a code from two steps ago, the same code twice and a recovery code twice', async () => {
    await localUser(t, 'codes@example.com', OWNER_PASSWORD);
    const { secret, recoveryCodes = [] } = await signInWithTotp(t, 'codes@example.com', OWNER_PASSWORD);
    const step = async (code: string) => {
      t.clock.advance(1);
      const first = await passwordStep(t, { email: 'codes@example.com', password: OWNER_PASSWORD });
      const login = cookieFrom(first.headers['set-cookie'], '__Host-gatehouse-login') ?? '';
      return t.http.post('/auth/password/totp').set('Origin', TEST_ORIGIN).set('Cookie', login).send({ pending: first.body.pending, code });
    };
    const now = () => t.clock.now().getTime();
    expectProblem(await step('000000'), 401, 'TOTP_INVALID');
    expectProblem(await step(codeAt(secret, now() - 60_000)), 401, 'TOTP_INVALID');
    // The enrolment code of this step was already used: the same code again is a replay.
    expectProblem(await step(codeAt(secret, now())), 401, 'TOTP_INVALID');
    t.clock.advance(30_000);
    const code = codeAt(secret, now());
    expect((await step(code)).status).toBe(200);
    expectProblem(await step(code), 401, 'TOTP_INVALID');
    const recovery = recoveryCodes[0] ?? '';
    expect((await step(recovery.toUpperCase())).status).toBe(200);
    expectProblem(await step(recovery), 401, 'TOTP_INVALID');
    const reasons = (await t.db.collection('audit').find({ action: 'totp.failed' }).toArray()).map((entry) => entry.details?.reason);
    expect(reasons).toEqual(expect.arrayContaining(['wrong_code', 'code_reused', 'recovery_code_reused']));
    expect(await t.db.collection('audit').countDocuments({ action: 'totp.recovery_code_used' })).toBe(1);
  });

  it('binds the pending step to the browser, makes it single-use and drops it after 5 wrong codes', async () => {
    await localUser(t, 'pending@example.com', OWNER_PASSWORD);
    const { secret } = await signInWithTotp(t, 'pending@example.com', OWNER_PASSWORD);
    t.clock.advance(30_000);
    const first = await passwordStep(t, { email: 'pending@example.com', password: OWNER_PASSWORD });
    const code = codeAt(secret, t.clock.now().getTime());
    // Another browser (no or another login cookie) with the pending token gets nothing.
    const other = await t.http.post('/auth/password/totp').set('Origin', TEST_ORIGIN).send({ pending: first.body.pending, code });
    expectProblem(other, 400, 'LOGIN_STATE_INVALID');
    const login = cookieFrom(first.headers['set-cookie'], '__Host-gatehouse-login') ?? '';
    for (let i = 0; i < 5; i++) {
      await t.http
        .post('/auth/password/totp')
        .set('Origin', TEST_ORIGIN)
        .set('Cookie', login)
        .send({ pending: first.body.pending, code: '123456' });
    }
    const after = await t.http
      .post('/auth/password/totp')
      .set('Origin', TEST_ORIGIN)
      .set('Cookie', login)
      .send({ pending: first.body.pending, code });
    expectProblem(after, 400, 'LOGIN_STATE_INVALID');
  });

  it('needs the current password and a code to enable and to disable', async () => {
    await localUser(t, 'toggle@example.com', 'toggle password 12', ['user']);
    const signed = await passwordStep(t, { email: 'toggle@example.com', password: 'toggle password 12' });
    const headers = await apiHeaders(t, cookieFrom(signed.headers['set-cookie'], '__Host-gatehouse') ?? '');
    const offer = await t.http.post('/api/v1/me/totp/setup').set(headers);
    expect(offer.status, offer.text).toBe(200);
    expect(offer.body.uri).toMatch(/^otpauth:\/\/totp\//);
    expect(offer.body.qrSvg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(offer.body.qrSvg).not.toMatch(/<script|style=/i);
    const secret = offer.body.secret as string;
    const now = () => t.clock.now().getTime();
    expectProblem(
      await t.http
        .post('/api/v1/me/totp/enable')
        .set(headers)
        .send({ password: 'wrong one 123456', code: codeAt(secret, now()) }),
      401,
      'CREDENTIALS_INVALID',
    );
    expectProblem(
      await t.http
        .post('/api/v1/me/totp/enable')
        .set(headers)
        .send({ code: codeAt(secret, now()) }),
      400,
      'VALIDATION_FAILED',
    );
    const enabled = await t.http
      .post('/api/v1/me/totp/enable')
      .set(headers)
      .send({ password: 'toggle password 12', code: codeAt(secret, now()) });
    expect(enabled.status, enabled.text).toBe(200);
    expect(enabled.body.recoveryCodes).toHaveLength(10);
    t.clock.advance(30_000);
    expectProblem(
      await t.http
        .post('/api/v1/me/totp/disable')
        .set(headers)
        .send({ password: 'nope nope nope', code: codeAt(secret, now()) }),
      401,
      'CREDENTIALS_INVALID',
    );
    expectProblem(
      await t.http.post('/api/v1/me/totp/disable').set(headers).send({ password: 'toggle password 12', code: '000000' }),
      401,
      'TOTP_INVALID',
    );
    expect(
      (
        await t.http
          .post('/api/v1/me/totp/disable')
          .set(headers)
          .send({ password: 'toggle password 12', code: codeAt(secret, now()) })
      ).status,
    ).toBe(204);
    expect(await t.db.collection('audit').countDocuments({ action: 'totp.disabled' })).toBe(1);
    expect((await t.http.get('/api/v1/me/local-auth').set(headers)).body).toEqual({ password: true, totp: false, recoveryCodesLeft: 0 });
  });

  it('stores the secret sealed and the recovery codes hashed; no API reads them back (A6)', async () => {
    const user = await localUser(t, 'sealed@example.com', OWNER_PASSWORD);
    const { cookie, secret, recoveryCodes = [] } = await signInWithTotp(t, 'sealed@example.com', OWNER_PASSWORD);
    const stored = JSON.stringify(await t.db.collection('credentials').findOne({ _id: user._id as never }));
    expect(stored).not.toContain(secret);
    for (const code of recoveryCodes) expect(stored).not.toContain(code);
    const headers = await apiHeaders(t, cookie);
    for (const path of ['/api/v1/me', '/api/v1/me/local-auth', '/account']) {
      const text = (await t.http.get(path).set(headers)).text;
      expect(text).not.toContain(secret);
      expect(text).not.toContain('argon2');
    }
    const logs = t.logLines.join('\n');
    expect(logs).not.toContain(secret);
    expect(logs).not.toContain(OWNER_PASSWORD);
  });
});
