import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DedicatedRedis } from '../../test/dedicated-redis.js';
import { createTestApp, createUser, issueApiToken, startBrowserSession, type TestApp } from '../../test/harness.js';
import { EVENTS, startTestTransmitter, type TestTransmitter } from '../../test/ssf-transmitter.js';
import { randomId } from '../crypto/index.js';
import type { User } from '../users/index.js';

const AUDIENCE = 'https://gatehouse.test/ssf';
const SECEVENT = 'application/secevent+jwt';

/**
 * The Shared Signals receiver with SETs signed by a real transmitter key published over HTTP:
 * each supported CAEP/RISC event has its effect on the next request; forged, misaddressed and
 * replayed SETs are refused with RFC 8935 error bodies and change nothing; unknown events and
 * untrusted subjects are acknowledged (202) and audited without effect.
 */
describe('Shared Signals receiver', () => {
  let acme: TestTransmitter;
  let mail: TestTransmitter;
  let t: TestApp;

  beforeAll(async () => {
    acme = await startTestTransmitter(AUDIENCE);
    mail = await startTestTransmitter(AUDIENCE);
    t = await createTestApp({
      ...acme.env('acme'),
      ...mail.env('mail', { SSF_MAIL_TRUST_EMAIL: 'true' }),
      // acme's issuer and keys, but its JWKS URL answers nothing (connection refused).
      ...acme.env('down', { SSF_DOWN_JWKS_URL: 'http://127.0.0.1:1/jwks' }),
      SSF_TRANSMITTERS: 'acme,mail,down',
    });
  });
  afterAll(async () => {
    await t?.close();
    await acme?.close();
    await mail?.close();
  });

  /** A user known at `acme` as `sub` (and by email), with a browser session and an API token. */
  async function person(sub = `sub-${randomBytes(4).toString('hex')}`) {
    const user = await createUser(t);
    const email = `${sub}@example.com`;
    await t.db.collection<User>('users').updateOne({ _id: user._id }, { $set: { email } });
    const now = t.clock.now();
    await t.services.users.insertIdentity({
      _id: randomId(),
      iss: acme.issuer,
      sub,
      providerId: 'acme',
      userId: user._id,
      email,
      emailVerified: true,
      name: null,
      groups: [],
      createdAt: now,
      lastSignInAt: now,
    });
    const { cookie } = await startBrowserSession(t, user);
    const { token } = await issueApiToken(t, user);
    return { user, sub, email, cookie, apiToken: token };
  }

  const deliver = (token: string, transmitter = 'acme', type = SECEVENT) =>
    t.http.post(`/ssf/events/${transmitter}`).set('Content-Type', type).set('Accept', 'application/json').send(token);
  const meByCookie = (cookie: string) => t.http.get('/api/v1/me').set('Cookie', cookie);
  const meByToken = (token: string) => t.http.get('/api/v1/me').set('Authorization', `Bearer ${token}`);
  const reload = async (user: User) => (await t.services.users.findById(user._id)) as User;
  const auditOf = (response: { headers: Record<string, string> }) =>
    t.db.collection('audit').find({ requestId: response.headers['x-request-id'] }).toArray();
  const subjectOf = (sub: string) => ({ format: 'iss_sub', iss: acme.issuer, sub });

  async function expectAccepted(token: string, transmitter = 'acme') {
    const response = await deliver(token, transmitter);
    expect(response.status, response.text).toBe(202);
    expect(response.text).toBe('');
    return response;
  }

  /** Refused with 400 and `err`, audited as a failure with no trace of the token, and without effect. */
  async function expectRefused(token: string, err: string, reason: string, who: Awaited<ReturnType<typeof person>>) {
    const before = await reload(who.user);
    const response = await deliver(token);
    expect(response.status, response.text).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({ err, description: expect.any(String) });
    expect(response.headers['cache-control']).toBe('no-store');
    const after = await reload(who.user);
    expect(after.status).toBe('active');
    expect(after.tokenVersion).toBe(before.tokenVersion);
    expect((await meByCookie(who.cookie)).status).toBe(200);
    const entries = await auditOf(response);
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'security_event.received',
        outcome: 'failure',
        actor: 'system',
        details: { provider: 'acme', reason, code: err },
      }),
    ]);
    const payload = token.split('.')[1] ?? '';
    if (payload.length >= 16) expect(JSON.stringify(entries)).not.toContain(payload);
  }

  it('session-revoked (CAEP) ends the subject’s browser sessions, and only theirs', async () => {
    const target = await person();
    const bystander = await person();
    const response = await expectAccepted(await acme.signSet({ event: EVENTS.sessionRevoked, subject: subjectOf(target.sub) }));
    expect((await meByCookie(target.cookie)).status).toBe(401);
    expect((await meByCookie(bystander.cookie)).status).toBe(200);
    // Browser sessions only: the person's own API token stays, and nothing else is bumped.
    expect((await meByToken(target.apiToken)).status).toBe(200);
    expect((await reload(target.user)).tokenVersion).toBe(0);
    expect(await auditOf(response)).toEqual([
      expect.objectContaining({
        action: 'security_event.received',
        outcome: 'success',
        actor: 'system',
        target: `user:${target.user._id}`,
        details: { provider: 'acme', reason: 'session-revoked', code: 'sessions_ended', count: 1 },
      }),
    ]);
  });

  it.each([
    ['account-disabled', EVENTS.accountDisabled],
    ['account-purged', EVENTS.accountPurged],
  ])('%s (RISC) disables the account everywhere, as the system', async (name, event) => {
    const target = await person();
    const response = await expectAccepted(await acme.signSet({ event, subject: subjectOf(target.sub) }));
    const after = await reload(target.user);
    expect(after.status).toBe('disabled');
    expect(after.tokenVersion).toBe(1);
    expect((await meByCookie(target.cookie)).status).toBe(401);
    expect((await meByToken(target.apiToken)).status).toBe(401);
    const entries = await auditOf(response);
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'user.disabled', actor: 'system', target: `user:${target.user._id}` }),
        expect.objectContaining({
          action: 'security_event.received',
          outcome: 'success',
          details: { provider: 'acme', reason: name, code: 'account_disabled' },
        }),
      ]),
    );
    // A second event for a stopped account is acknowledged and changes nothing more.
    const again = await expectAccepted(await acme.signSet({ event, subject: subjectOf(target.sub) }));
    expect((await reload(target.user)).tokenVersion).toBe(1);
    expect(await auditOf(again)).toEqual([expect.objectContaining({ details: expect.objectContaining({ code: 'already_disabled' }) })]);
  });

  it.each([
    ['sessions-revoked', EVENTS.sessionsRevoked],
    ['credential-change', EVENTS.credentialChange],
  ])('%s revokes everything of the account (token version bumped)', async (name, event) => {
    const target = await person();
    const response = await expectAccepted(
      await acme.signSet({ event, subject: subjectOf(target.sub), eventPayload: { credential_type: 'password', change_type: 'update' } }),
    );
    const after = await reload(target.user);
    expect(after.tokenVersion).toBe(1);
    expect(after.status).toBe('active');
    expect((await meByCookie(target.cookie)).status).toBe(401);
    expect((await meByToken(target.apiToken)).status).toBe(401);
    expect(await auditOf(response)).toEqual([
      expect.objectContaining({ details: { provider: 'acme', reason: name, code: 'revoked_all', count: 2 } }),
    ]);
  });

  it('refuses a SET signed by another key, misaddressed, from another issuer or malformed, without effect', async () => {
    const target = await person();
    const sign = (options: Parameters<TestTransmitter['signSet']>[0] = {}) =>
      acme.signSet({ event: EVENTS.sessionsRevoked, subject: subjectOf(target.sub), ...options });
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await sign({ strangerKey: true }), 'invalid_key', 'signature', target);
    // Another transmitter's perfectly valid SET sent to acme's endpoint: the signature fails first.
    await expectRefused(
      await mail.signSet({ event: EVENTS.sessionsRevoked, subject: subjectOf(target.sub) }),
      'invalid_key',
      'signature',
      target,
    );
    await expectRefused(await sign({ claims: { iss: `${acme.issuer}/other` } }), 'invalid_issuer', 'iss', target);
    await expectRefused(await sign({ claims: { aud: 'https://someone-else.example' } }), 'invalid_audience', 'aud', target);
    await expectRefused(await sign({ claims: { aud: [AUDIENCE, 'https://someone-else.example'] } }), 'invalid_audience', 'aud', target);
    await expectRefused(await sign({ omit: ['aud'] }), 'invalid_audience', 'aud', target);
    await expectRefused(await sign({ typ: 'JWT' }), 'invalid_request', 'typ', target);
    await expectRefused(await sign({ claims: { iat: now - 3600 } }), 'invalid_request', 'expired', target);
    await expectRefused(await sign({ claims: { iat: now + 3600 } }), 'invalid_request', 'iat', target);
    await expectRefused(await sign({ omit: ['jti'] }), 'invalid_request', 'jti', target);
    await expectRefused(await sign({ omit: ['events'] }), 'invalid_request', 'events', target);
    await expectRefused(
      await sign({ claims: { events: { [EVENTS.sessionsRevoked]: {}, [EVENTS.accountDisabled]: {} } } }),
      'invalid_request',
      'events',
      target,
    );
    await expectRefused(await sign({ claims: { events: { [EVENTS.sessionsRevoked]: 'yes' } } }), 'invalid_request', 'events', target);
    await expectRefused(await sign({ omit: ['sub_id'] }), 'invalid_request', 'no_subject', target);
    await expectRefused(await sign({ subject: { format: 'iss_sub', iss: acme.issuer } }), 'invalid_request', 'subject', target);
    await expectRefused('not.a.jwt', 'invalid_request', 'malformed', target);
    const [header, payload] = (await sign()).split('.');
    // Signature stripped (as `alg: none` would leave it), and an `alg: none` header outright.
    await expectRefused(`${header}.${payload}.`, 'invalid_key', 'signature', target);
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'secevent+jwt' })).toString('base64url');
    await expectRefused(`${none}.${payload}.`, 'invalid_key', 'alg', target);
  });

  it('honours a SET once: the replay is refused and has no second effect', async () => {
    const target = await person();
    const token = await acme.signSet({ event: EVENTS.sessionsRevoked, subject: subjectOf(target.sub) });
    await expectAccepted(token);
    expect((await reload(target.user)).tokenVersion).toBe(1);
    const fresh = await startBrowserSession(t, await reload(target.user));
    await expectRefused(token, 'invalid_request', 'replayed', { ...target, cookie: fresh.cookie });
    expect((await reload(target.user)).tokenVersion).toBe(1);
    // Two concurrent deliveries of one new SET: exactly one is honoured.
    const raced = await acme.signSet({ event: EVENTS.sessionsRevoked, subject: subjectOf(target.sub) });
    const statuses = (await Promise.all([deliver(raced), deliver(raced)])).map((response) => response.status).sort();
    expect(statuses).toEqual([202, 400]);
    expect((await reload(target.user)).tokenVersion).toBe(2);
  });

  it('acknowledges and audits an unknown event, with no effect', async () => {
    const target = await person();
    const response = await expectAccepted(
      await acme.signSet({
        event: 'https://schemas.openid.net/secevent/caep/event-type/assurance-level-change',
        subject: subjectOf(target.sub),
      }),
    );
    expect(await reload(target.user)).toMatchObject({ status: 'active', tokenVersion: 0 });
    expect((await meByCookie(target.cookie)).status).toBe(200);
    expect(await auditOf(response)).toEqual([
      expect.objectContaining({
        action: 'security_event.received',
        outcome: 'success',
        details: { provider: 'acme', reason: 'assurance-level-change', code: 'event_unknown' },
      }),
    ]);
  });

  it('resolves email subjects only for a transmitter trusted for email', async () => {
    const target = await person();
    const bySubjectEmail = (transmitter: TestTransmitter) =>
      transmitter.signSet({ event: EVENTS.sessionsRevoked, subject: { format: 'email', email: target.email.toUpperCase() } });
    const untrusted = await expectAccepted(await bySubjectEmail(acme));
    expect((await reload(target.user)).tokenVersion).toBe(0);
    expect((await meByCookie(target.cookie)).status).toBe(200);
    expect(await auditOf(untrusted)).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ code: 'subject_not_trusted' }) }),
    ]);
    // The transmitter trusted for email finds the account by its canonical address.
    const trusted = await expectAccepted(await bySubjectEmail(mail), 'mail');
    expect((await reload(target.user)).tokenVersion).toBe(1);
    expect(await auditOf(trusted)).toEqual([
      expect.objectContaining({
        target: `user:${target.user._id}`,
        details: expect.objectContaining({ provider: 'mail', code: 'revoked_all' }),
      }),
    ]);
  });

  it('ignores subjects it may not or cannot resolve, answering 202 all the same', async () => {
    const target = await person();
    const cases: [Record<string, unknown>, string][] = [
      // Another issuer's (iss, sub): acme doesn't speak for it.
      [{ format: 'iss_sub', iss: 'https://other-idp.example', sub: target.sub }, 'subject_not_trusted'],
      [{ format: 'opaque', id: target.sub }, 'subject_ignored'],
      [{ format: 'iss_sub', iss: acme.issuer, sub: 'nobody-here' }, 'subject_unknown'],
    ];
    for (const [subject, code] of cases) {
      const response = await expectAccepted(await acme.signSet({ event: EVENTS.accountDisabled, subject }));
      expect(await auditOf(response)).toEqual([expect.objectContaining({ details: expect.objectContaining({ code }) })]);
    }
    expect(await reload(target.user)).toMatchObject({ status: 'active', tokenVersion: 0 });
    // A complex subject is resolved through its user member (the session member is not narrowed down).
    await expectAccepted(
      await acme.signSet({
        event: EVENTS.sessionRevoked,
        subject: { format: 'complex', user: subjectOf(target.sub), session: { format: 'opaque', id: 'upstream-session' } },
      }),
    );
    expect((await meByCookie(target.cookie)).status).toBe(401);
  });

  it('answers 503 and changes nothing when the transmitter’s keys cannot be fetched', async () => {
    const target = await person();
    const response = await deliver(await acme.signSet({ event: EVENTS.accountDisabled, subject: subjectOf(target.sub) }), 'down');
    expect(response.status, response.text).toBe(503);
    expect(await reload(target.user)).toMatchObject({ status: 'active', tokenVersion: 0 });
    expect(await auditOf(response)).toEqual([
      expect.objectContaining({ outcome: 'failure', details: { provider: 'down', reason: 'transmitter_unavailable' } }),
    ]);
  });

  it('refuses a body that is not application/secevent+jwt (415) and answers 404 for an unknown transmitter', async () => {
    const target = await person();
    const token = await acme.signSet({ event: EVENTS.sessionsRevoked, subject: subjectOf(target.sub) });
    for (const type of ['application/json', 'application/jwt', 'text/plain']) {
      const response = await deliver(type === 'application/json' ? JSON.stringify({ set: token }) : token, 'acme', type);
      expect(response.status, type).toBe(415);
      expect(response.body).toEqual({ err: 'invalid_request', description: expect.any(String) });
      expect(await auditOf(response)).toEqual([
        expect.objectContaining({ outcome: 'failure', details: { provider: 'acme', reason: 'request_invalid', code: 'invalid_request' } }),
      ]);
    }
    // A compressed body is refused before anything is inflated (docs/security-tests.md N3).
    for (const coding of ['gzip', 'x-evil']) {
      const response = await t.http
        .post('/ssf/events/acme')
        .set('Content-Type', SECEVENT)
        .set('Content-Encoding', coding)
        .set('Accept', 'application/json')
        .send(coding === 'gzip' ? gzipSync(token) : token);
      expect(response.status, coding).toBe(415);
      expect(response.body).toEqual({ err: 'invalid_request', description: expect.any(String) });
    }
    expect((await deliver(token, 'nope')).status).toBe(404);
    expect((await reload(target.user)).tokenVersion).toBe(0);
    // The same SET, properly delivered, is still honoured: nothing above claimed its jti.
    await expectAccepted(token);
    expect((await reload(target.user)).tokenVersion).toBe(1);
  });
});

describe('Shared Signals receiver without Redis', () => {
  it('fails closed with 503 when the jti cannot be checked, and honours the retry later', async () => {
    const redis = await DedicatedRedis.start();
    const transmitter = await startTestTransmitter(AUDIENCE);
    const t = await createTestApp({ ...transmitter.env('acme'), REDIS_URL: redis.url });
    try {
      const user = await createUser(t);
      const now = t.clock.now();
      await t.services.users.insertIdentity({
        _id: randomId(),
        iss: transmitter.issuer,
        sub: 'redis-user',
        providerId: 'acme',
        userId: user._id,
        email: null,
        emailVerified: false,
        name: null,
        groups: [],
        createdAt: now,
        lastSignInAt: now,
      });
      const token = await transmitter.signSet({
        event: EVENTS.accountDisabled,
        subject: { format: 'iss_sub', iss: transmitter.issuer, sub: 'redis-user' },
      });
      await redis.stop();
      const response = await t.http.post('/ssf/events/acme').set('Content-Type', SECEVENT).send(token);
      expect(response.status, response.text).toBe(503);
      expect(await t.services.users.findById(user._id)).toMatchObject({ status: 'active', tokenVersion: 0 });
      const entry = await t.db.collection('audit').findOne({ requestId: response.headers['x-request-id'] });
      expect(entry).toMatchObject({
        action: 'security_event.received',
        outcome: 'failure',
        details: { provider: 'acme', reason: 'replay_check_unavailable' },
      });

      // Redis back: the transmitter's retry of the same SET goes through.
      await redis.restart();
      let retried = 0;
      for (let attempt = 0; attempt < 50 && retried !== 202; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        retried = (await t.http.post('/ssf/events/acme').set('Content-Type', SECEVENT).send(token)).status;
      }
      expect(retried).toBe(202);
      expect(await t.services.users.findById(user._id)).toMatchObject({ status: 'disabled', tokenVersion: 1 });
    } finally {
      await t.close();
      await transmitter.close();
      await redis.stop();
    }
  }, 30_000);
});
