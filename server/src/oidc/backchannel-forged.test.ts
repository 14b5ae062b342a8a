import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RogueApp, rogueDefaults, signInAtRogue, startRogueApp } from '../../test/rogue-idp.js';
import { cookieFrom, SESSION_COOKIE } from '../../test/sign-in.js';

/**
 * Back-channel logout with tokens a test signs itself (docs/security-tests.md O18): every forged or
 * replayed token is refused with 400 `invalid_request`, ends no session and leaves an audit
 * entry; a good one ends the sessions of its `sid`, or all of its `sub`'s.
 */
describe('back-channel logout: forged tokens and sub (O18)', () => {
  let rogue: RogueApp;

  beforeAll(async () => {
    rogue = await startRogueApp();
  });
  afterAll(async () => {
    await rogue?.close();
  });
  beforeEach(() => {
    Object.assign(rogue.idp.behaviour, rogueDefaults());
  });

  /** Signs in at the rogue provider as `sub` with provider session `sid`; returns the session cookie. */
  async function signInAs(sub: string, sid: string): Promise<string> {
    rogue.idp.behaviour.claims = { sid };
    const { response } = await signInAtRogue(rogue, { sub });
    expect(response.status, response.text).toBe(302);
    const cookie = cookieFrom(response.headers['set-cookie'], SESSION_COOKIE);
    if (!cookie) throw new Error('no session cookie');
    return cookie;
  }

  const me = (cookie: string) => rogue.t.http.get('/api/v1/me').set('Cookie', cookie);

  const post = (token: string, provider = 'rogue') =>
    rogue.t.http.post(`/auth/${provider}/backchannel-logout`).type('form').send({ logout_token: token });

  async function expectRejected(token: string, reason: string, cookie: string) {
    const revokedBefore = await rogue.t.db.collection('sessions').countDocuments({ revokedAt: { $ne: null } });
    const response = await post(token);
    expect(response.status, response.text).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_request' });
    expect(response.headers['cache-control']).toBe('no-store');
    expect(await rogue.t.db.collection('sessions').countDocuments({ revokedAt: { $ne: null } })).toBe(revokedBefore);
    expect((await me(cookie)).status).toBe(200);
    const entries = await rogue.t.db.collection('audit').find({ requestId: response.headers['x-request-id'] }).toArray();
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'backchannel_logout.received',
        outcome: 'failure',
        details: expect.objectContaining({ provider: 'rogue', reason }),
      }),
    ]);
    const payload = token.split('.')[1] ?? '';
    if (payload.length >= 16) expect(JSON.stringify(entries)).not.toContain(payload);
  }

  it('refuses forged, malformed and replayed tokens, ending nothing', async () => {
    const sub = 'forged-target';
    const sid = 'forged-sid';
    const cookie = await signInAs(sub, sid);
    const sign = (options: Parameters<RogueApp['idp']['signLogoutToken']>[0] = {}) =>
      rogue.idp.signLogoutToken({ ...options, claims: { sub, sid, ...options.claims } });
    const now = Math.floor(Date.now() / 1000);

    await expectRejected(await sign({ alg: 'unknown-key' }), 'signature', cookie);
    await expectRejected(await sign({ alg: 'none' }), 'alg', cookie);
    await expectRejected(await sign({ alg: 'HS256-client-secret' }), 'alg', cookie);
    await expectRejected(await sign({ claims: { aud: 'someone-else' } }), 'aud', cookie);
    await expectRejected(await sign({ claims: { aud: [rogue.idp.clientId, 'someone-else'] } }), 'aud', cookie);
    await expectRejected(await sign({ claims: { iss: `${rogue.idp.issuer}/other` } }), 'iss', cookie);
    await expectRejected(await sign({ omit: ['events'] }), 'events', cookie);
    await expectRejected(await sign({ claims: { events: { 'http://schemas.openid.net/event/other': {} } } }), 'events', cookie);
    await expectRejected(
      await sign({ claims: { events: { 'http://schemas.openid.net/event/backchannel-logout': 'yes' } } }),
      'events',
      cookie,
    );
    await expectRejected(await sign({ claims: { nonce: 'n-0S6_WzA2Mj' } }), 'nonce', cookie);
    await expectRejected(await sign({ omit: ['sid', 'sub'] }), 'no_sid_or_sub', cookie);
    await expectRejected(await sign({ omit: ['jti'] }), 'jti', cookie);
    await expectRejected(await sign({ omit: ['iat'] }), 'iat', cookie);
    await expectRejected(await sign({ claims: { iat: now - 3600 } }), 'expired', cookie);
    await expectRejected(await sign({ claims: { iat: now + 3600 } }), 'iat', cookie);
    await expectRejected(await sign({ claims: { exp: now - 60 } }), 'expired', cookie);
    await expectRejected(await sign({ typ: 'at+jwt' }), 'typ', cookie);
    await expectRejected('not.a.jwt', 'malformed', cookie);

    // A token signed with our own, unrelated key under the provider's kid.
    const { generateKeyPair } = await import('jose');
    const { privateKey } = await generateKeyPair('RS256');
    const selfSigned = await new SignJWT({
      iss: rogue.idp.issuer,
      aud: rogue.idp.clientId,
      iat: now,
      jti: 'self-signed',
      sub,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt' })
      .sign(privateKey);
    await expectRejected(selfSigned, 'signature', cookie);

    // Replay: the first delivery ends the session, the second is refused.
    const good = await sign({ claims: { jti: 'once-only' } });
    expect((await post(good)).status).toBe(200);
    expect((await me(cookie)).status).toBe(401);
    const cookieAgain = await signInAs(sub, sid);
    await expectRejected(good, 'replayed', cookieAgain);
  });

  it('answers 400 without a logout token and 404 for an unknown provider', async () => {
    const missing = await rogue.t.http.post('/auth/rogue/backchannel-logout').type('form').send({});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: 'invalid_request' });
    const audit = await rogue.t.db.collection('audit').findOne({ requestId: missing.headers['x-request-id'] });
    expect(audit).toMatchObject({ action: 'backchannel_logout.received', outcome: 'failure', details: { reason: 'request_invalid' } });
    expect((await post(await rogue.idp.signLogoutToken(), 'nope')).status).toBe(404);
  });

  it('by sid ends only the sessions of that provider session', async () => {
    const first = await signInAs('sid-user', 'sid-a');
    const second = await signInAs('sid-user', 'sid-b');
    const response = await post(await rogue.idp.signLogoutToken({ claims: { sid: 'sid-a' }, omit: ['sub'] }));
    expect(response.status, response.text).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect((await me(first)).status).toBe(401);
    expect((await me(second)).status).toBe(200);
  });

  it('by sid and sub refuses to end a session of another account', async () => {
    const victim = await signInAs('sid-victim', 'shared-sid');
    const response = await post(await rogue.idp.signLogoutToken({ claims: { sid: 'shared-sid', sub: 'someone-else' } }));
    expect(response.status).toBe(200);
    expect((await me(victim)).status).toBe(200);
  });

  it('by sub ends every browser session of that account and no one else’s', async () => {
    const one = await signInAs('sub-user', 'sub-sid-1');
    const two = await signInAs('sub-user', 'sub-sid-2');
    const other = await signInAs('sub-bystander', 'sub-sid-3');
    const response = await post(await rogue.idp.signLogoutToken({ claims: { sub: 'sub-user' } }));
    expect(response.status, response.text).toBe(200);
    expect((await me(one)).status).toBe(401);
    expect((await me(two)).status).toBe(401);
    expect((await me(other)).status).toBe(200);
    const entry = await rogue.t.db.collection('audit').findOne({ requestId: response.headers['x-request-id'] });
    expect(entry).toMatchObject({
      action: 'backchannel_logout.received',
      outcome: 'success',
      target: expect.stringMatching(/^user:/),
      details: { provider: 'rogue', reason: 'sub', count: 2 },
    });
  });

  it('honours one of two concurrent deliveries of the same token', async () => {
    await signInAs('race-user', 'race-sid');
    const token = await rogue.idp.signLogoutToken({ claims: { sub: 'race-user' } });
    const statuses = (await Promise.all([post(token), post(token)])).map((response) => response.status).sort();
    expect(statuses).toEqual([200, 400]);
  });

  it('fails closed with 503 when Redis cannot check the jti', async () => {
    const cookie = await signInAs('redis-user', 'redis-sid');
    const token = await rogue.idp.signLogoutToken({ claims: { sub: 'redis-user' } });
    const original = rogue.t.redis.set.bind(rogue.t.redis);
    (rogue.t.redis as unknown as { set: unknown }).set = () => Promise.reject(new Error('Connection is closed.'));
    try {
      const response = await post(token);
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      (rogue.t.redis as unknown as { set: unknown }).set = original;
    }
    expect((await me(cookie)).status).toBe(200);
  });
});

describe('back-channel logout when the provider’s keys are unreachable', () => {
  it('answers 503 and ends nothing, so that the provider retries', async () => {
    const rogue = await startRogueApp();
    try {
      rogue.idp.behaviour.claims = { sid: 'jwks-sid' };
      const { response: signedIn } = await signInAtRogue(rogue, { sub: 'jwks-user' });
      const cookie = cookieFrom(signedIn.headers['set-cookie'], SESSION_COOKIE) ?? '';
      // A key the cached JWKS doesn't have forces a refetch, which now fails.
      rogue.idp.behaviour.jwksStatus = 500;
      await rogue.idp.rotateKey();
      const response = await rogue.t.http
        .post('/auth/rogue/backchannel-logout')
        .type('form')
        .send({ logout_token: await rogue.idp.signLogoutToken({ claims: { sub: 'jwks-user' } }) });
      expect(response.status, response.text).toBe(503);
      expect(response.body).toMatchObject({ error: 'temporarily_unavailable' });
      expect((await rogue.t.http.get('/api/v1/me').set('Cookie', cookie)).status).toBe(200);
      const entry = await rogue.t.db.collection('audit').findOne({ requestId: response.headers['x-request-id'] });
      expect(entry).toMatchObject({
        action: 'backchannel_logout.received',
        outcome: 'failure',
        details: { reason: 'provider_unavailable' },
      });
    } finally {
      await rogue.close();
    }
  });
});
