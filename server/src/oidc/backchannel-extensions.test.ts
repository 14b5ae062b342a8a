// Back-channel logout by `sub` and paired extensions (issue #6): with
// BACKCHANNEL_LOGOUT_EXTENSIONS the provider's "this person logged out" also ends the account's
// paired extensions; without it, only browser sessions end and paired devices keep working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RogueApp, signInAtRogue, startRogueApp } from '../../test/rogue-idp.js';
import { cookieFrom, SESSION_COOKIE } from '../../test/sign-in.js';
import type { User } from '../users/index.js';

describe.each([
  ['true', true],
  ['false', false],
])('back-channel logout by sub with BACKCHANNEL_LOGOUT_EXTENSIONS=%s', (setting, endsExtensions) => {
  let rogue: RogueApp;
  beforeAll(async () => {
    rogue = await startRogueApp({}, { BACKCHANNEL_LOGOUT_EXTENSIONS: setting });
  });
  afterAll(() => rogue?.close());

  it(`ends the browser sessions${endsExtensions ? ' and the paired extension' : ', not the paired extension'}`, async () => {
    rogue.idp.behaviour.claims = { sid: `sid-${setting}` };
    const { response } = await signInAtRogue(rogue, { sub: `person-${setting}` });
    const cookie = cookieFrom(response.headers['set-cookie'], SESSION_COOKIE) as string;
    const { principal } = await rogue.t.services.sessions.authenticate(cookie.slice(`${SESSION_COOKIE}=`.length));
    const user = (await rogue.t.services.users.findById(principal.userId)) as User;
    const meta = { requestId: 'test', ip: '127.0.0.1', userAgent: 'test' };
    const paired = await rogue.t.services.sessions.createPairedSession(user, meta, {
      pairingId: `pairing-${setting}`,
      clientId: 'gatehouse-extension',
      jkt: 'x'.repeat(43),
      scopes: ['sessions:read'],
      device: 'Chrome 156 on Linux',
      lifetimeMs: 86_400_000,
    });

    const logout = await rogue.t.http
      .post('/auth/rogue/backchannel-logout')
      .type('form')
      .send({ logout_token: await rogue.idp.signLogoutToken({ claims: { sub: `person-${setting}` } }) });
    expect(logout.status, logout.text).toBe(200);

    expect((await rogue.t.http.get('/api/v1/me').set('Cookie', cookie)).status).toBe(401);
    const extension = await rogue.t.services.sessions.findById(paired._id);
    expect(extension?.revokedAt !== null).toBe(endsExtensions);
  });
});
