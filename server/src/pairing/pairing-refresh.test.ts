// docs/security-tests.md P7 and P8, and the ends of a pairing: the paired credential (the refresh token)
// stops working the moment its session is revoked (by the person in the browser, or by the
// device itself), the account is disabled, or the user's tokenVersion is bumped — and so does
// the access token already issued. An old refresh token replayed after rotation revokes the
// whole pairing. RFC 7009 revocation ends it too; re-pairing the same key replaces the old one.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createListeningApp, DeviceClient, grantError, type ListeningApp } from '../../test/device-client.js';
import { createUser, startBrowserSession } from '../../test/harness.js';
import { collection } from '../../test/http-checks.js';
import {
  athOf,
  eventually,
  fetchNonce,
  form,
  makeProof,
  newKey,
  outcomeOf,
  type Paired,
  type Person,
  pair,
  pairPost,
  rawRequest,
  refreshFields,
  signedInPerson,
  tokenWithProof,
} from '../../test/pairing-helpers.js';
import type { User } from '../users/index.js';

let t: ListeningApp;

/** RFC 7009 revocation, form-encoded, as any client sends it. */
const revoke = (fields: Record<string, string>) =>
  rawRequest(t.origin, 'POST', '/oauth/revoke', { 'Content-Type': 'application/x-www-form-urlencoded' }, form(fields));

beforeAll(async () => {
  t = await createListeningApp({ DEVICE_POLL_INTERVAL_SECONDS: '1', PAIRING_STARTS_PER_MINUTE: '1000' });
});
afterAll(() => t.close());

/** The paired client is cut off: refresh → invalid_grant and its access token → 401 at /api/v1/me. */
async function expectCutOff(
  paired: Paired,
  refreshToken = paired.device.refreshToken as string,
  accessToken = paired.device.accessToken as string,
) {
  expect(await grantError(() => paired.device.refresh(refreshToken))).toBe('invalid_grant');
  const me = await paired.device.call('GET', '/api/v1/me', accessToken);
  expect(me.status).toBe(401);
  expect(me.headers.get('www-authenticate')).toMatch(/^DPoP /);
}

/** A fresh person and a fresh pairing; the pairing works before the test touches it. */
async function freshPairing(): Promise<{ person: Person; paired: Paired }> {
  const person = await signedInPerson(t);
  const paired = await pair(t, person);
  expect((await paired.device.call('GET', '/api/v1/me')).status).toBe(200);
  return { person, paired };
}

async function auditReasons(action: string): Promise<string[]> {
  const entries = await collection(t, 'audit').find({ action }).toArray();
  return entries.map((entry) => (entry.details as { reason?: string }).reason ?? '');
}

describe('P7 refresh after revoke, disable, tokenVersion bump', () => {
  it('P7 session revoked by the person (DELETE /api/v1/me/sessions/:id from the browser) → invalid_grant, access token 401', async () => {
    const { person, paired } = await freshPairing();
    const response = await rawRequest(t.origin, 'DELETE', `/api/v1/me/sessions/${paired.sessionId}`, {
      Cookie: person.cookie,
      Origin: t.origin,
      'X-CSRF-Token': person.csrf,
    });
    expect(response.status, response.text).toBe(204);
    await expectCutOff(paired);
  });

  it('P7 session revoked by the device itself (DELETE of its own session with DPoP) → invalid_grant, access token 401', async () => {
    const { paired } = await freshPairing();
    const response = await paired.device.call('DELETE', `/api/v1/me/sessions/${paired.sessionId}`);
    expect(response.status).toBe(204);
    await expectCutOff(paired);
  });

  it('P7 account disabled by an admin → invalid_grant, access token 401; enabling again does not revive the pairing', async () => {
    const { person, paired } = await freshPairing();
    await t.services.admin.changeStatus({ kind: 'cli' }, person.user._id, 'disable');
    await expectCutOff(paired);
    await t.services.admin.changeStatus({ kind: 'cli' }, person.user._id, 'enable');
    await expectCutOff(paired);
  });

  it('P7 account disabled through the admin API → the same', async () => {
    const adminUser = await createUser(t, { name: 'Admin', roles: ['user', 'admin'] });
    const { cookie, sessionId } = await startBrowserSession(t, adminUser);
    const admin = { cookie, csrf: t.services.csrf.forSession(sessionId) };
    const { person, paired } = await freshPairing();
    const response = await rawRequest(t.origin, 'POST', `/api/v1/admin/users/${person.user._id}/disable`, {
      Cookie: admin.cookie,
      Origin: t.origin,
      'X-CSRF-Token': admin.csrf,
    });
    expect(response.status, response.text).toBeLessThan(300);
    await expectCutOff(paired);
  });

  it('P7 revoke-all (tokenVersion bump + every session revoked) → invalid_grant, access token 401', async () => {
    const { person, paired } = await freshPairing();
    await t.services.sessions.revokeAll(person.user._id, 'test_revoke_all');
    await expectCutOff(paired);
  });

  it('P7 a bare tokenVersion bump (session records untouched) is enough → invalid_grant, access token 401', async () => {
    const { person, paired } = await freshPairing();
    const user = await t.db
      .collection<User>('users')
      .findOneAndUpdate({ _id: person.user._id }, { $inc: { tokenVersion: 1 } }, { returnDocument: 'after' });
    await t.services.revocation.userChanged(person.user._id, { tokenVersion: user?.tokenVersion as number, status: 'active' });
    const session = await collection(t, 'sessions').findOne({ _id: paired.sessionId });
    expect(session?.revokedAt).toBeNull();
    await expectCutOff(paired);
  });

  it('P7 the control: an untouched pairing keeps refreshing', async () => {
    const { paired } = await freshPairing();
    for (let i = 0; i < 3; i++) await paired.device.refresh();
    expect((await paired.device.call('GET', '/api/v1/me')).status).toBe(200);
  });
});

describe('P8 an old refresh token replayed after rotation revokes the whole pairing', () => {
  it('P8 replay → invalid_grant; the current refresh token and the access token stop working; session revoked; audited', async () => {
    const { paired } = await freshPairing();
    const old = paired.refreshToken;
    await paired.device.refresh();
    const current = paired.device.refreshToken as string;
    const currentAccess = paired.device.accessToken as string;
    expect(current).not.toBe(old);
    expect((await paired.device.call('GET', '/api/v1/me')).status).toBe(200);

    expect(await grantError(() => paired.device.refresh(old))).toBe('invalid_grant');
    const session = await collection(t, 'sessions').findOne({ _id: paired.sessionId });
    expect(session?.revokedAt).toBeInstanceOf(Date);
    expect(session?.revokeReason).toBe('refresh_token_replayed');
    await expectCutOff(paired, current, currentAccess);

    await eventually(async () => {
      expect(await auditReasons('pairing.revoked')).toContain('refresh_token_replayed');
      expect(await auditReasons('token.exchange_failed')).toContain('refresh_token_replayed');
    });
    const revoked = await collection(t, 'audit').findOne({ action: 'pairing.revoked', target: `session:${paired.sessionId}` });
    expect(revoked).not.toBeNull();
  });

  it('P8 a token two rotations old is a replay too', async () => {
    const { paired } = await freshPairing();
    const first = paired.refreshToken;
    await paired.device.refresh();
    await paired.device.refresh();
    expect(await grantError(() => paired.device.refresh(first))).toBe('invalid_grant');
    await expectCutOff(paired);
  });
});

describe('P8 across instances (each keeps the refresh tokens it inserted for their next exchange)', () => {
  it('P8 a token rotated on B is still caught as a replay on A, which holds its own copy of it', async () => {
    const b = await createListeningApp({ DEVICE_POLL_INTERVAL_SECONDS: '1', PUBLIC_URL: t.origin }, { sharedWith: t });
    try {
      const { paired } = await freshPairing();
      await paired.device.refresh(); // on A: A keeps the new token for its next exchange
      const heldByA = paired.device.refreshToken as string;
      paired.device.via = b.origin;
      await paired.device.refresh(); // the client moved to B, which reads it from MongoDB and rotates it
      const current = paired.device.refreshToken as string;
      const currentAccess = paired.device.accessToken as string;
      paired.device.via = null;
      expect(await grantError(() => paired.device.refresh(heldByA))).toBe('invalid_grant');
      const session = await collection(t, 'sessions').findOne({ _id: paired.sessionId });
      expect(session?.revokeReason).toBe('refresh_token_replayed');
      await expectCutOff(paired, current, currentAccess);
      paired.device.via = b.origin;
      await expectCutOff(paired, current, currentAccess);
    } finally {
      await b.close();
    }
  });
});

describe('ending a pairing', () => {
  it('POST /oauth/revoke with the refresh token ends the session (200); unknown tokens get 200 too', async () => {
    const { paired } = await freshPairing();

    const unknown = await revoke({ token: 'not-a-real-token', token_type_hint: 'refresh_token', client_id: 'gatehouse-cli' });
    expect(unknown.status).toBe(200);
    expect((await paired.device.call('GET', '/api/v1/me')).status).toBe(200);

    const response = await revoke({ token: paired.refreshToken, token_type_hint: 'refresh_token', client_id: 'gatehouse-cli' });
    expect(response.status).toBe(200);
    const session = await collection(t, 'sessions').findOne({ _id: paired.sessionId });
    expect(session?.revokedAt).toBeInstanceOf(Date);
    await expectCutOff(paired);
    // Revoking again is still a plain 200.
    expect((await revoke({ token: paired.refreshToken, client_id: 'gatehouse-cli' })).status).toBe(200);
    await eventually(async () => expect(await auditReasons('pairing.revoked')).toContain('client_disconnected'));
  });

  it('POST /oauth/revoke naming another client does not end this client’s pairing (RFC 7009 §2.1)', async () => {
    const { paired } = await freshPairing();
    const response = await revoke({ token: paired.refreshToken, client_id: 'gatehouse-extension' });
    expect(response.status).toBe(200);
    await paired.device.refresh();
    expect((await paired.device.call('GET', '/api/v1/me')).status).toBe(200);
  });

  it('the device client’s own revoke (oauth4webapi) ends it', async () => {
    const { paired } = await freshPairing();
    await paired.device.revoke();
    await expectCutOff(paired, paired.refreshToken, paired.accessToken);
  });

  it('re-pairing the same client key for the same user revokes the earlier pairing’s session', async () => {
    const person = await signedInPerson(t);
    const device = await DeviceClient.create(t.origin);
    const first = await pair(t, person, device);
    const second = await pair(t, person, device);
    expect(second.sessionId).not.toBe(first.sessionId);

    const old = await collection(t, 'sessions').findOne({ _id: first.sessionId });
    expect(old?.revokedAt).toBeInstanceOf(Date);
    expect(old?.revokeReason).toBe('replaced_by_new_pairing');
    expect(await grantError(() => device.refresh(first.refreshToken))).toBe('invalid_grant');
    expect((await device.call('GET', '/api/v1/me', first.accessToken)).status).toBe(401);

    // The new pairing is unaffected (the failed old refresh was not a replay of the new chain).
    await device.refresh(second.refreshToken);
    expect((await device.call('GET', '/api/v1/me')).status).toBe(200);
    const live = await collection(t, 'sessions').countDocuments({ userId: person.user._id, kind: 'extension', revokedAt: null });
    expect(live).toBe(1);
  });

  it('pairing another key, or for another user, leaves the earlier pairing alone', async () => {
    const person = await signedInPerson(t);
    const other = await signedInPerson(t);
    const device = await DeviceClient.create(t.origin);
    const first = await pair(t, person, device);
    await pair(t, person); // another key, same user
    await pair(t, other, device); // same key, another user
    await device.refresh(first.refreshToken);
    expect((await device.call('GET', '/api/v1/me')).status).toBe(200);
  });
});

describe('P7 the paired credential’s own limits (idle 30 days, absolute 1 year)', () => {
  const DAY = 86_400_000;
  let ahead = 0;
  const advance = (ms: number) => {
    t.clock.advance(ms);
    ahead += ms;
  };
  afterEach(() => {
    t.clock.advance(-ahead);
    ahead = 0;
  });

  /** A refresh with a proof dated by the server's (moved) clock and its current nonce. */
  async function refreshNow(paired: Paired, refreshToken: string) {
    const iat = Math.floor(t.clock.now().getTime() / 1000);
    return tokenWithProof(t, paired.device.key, refreshFields(refreshToken), t.services.dpop.currentNonce(), { iat });
  }
  async function meNow(paired: Paired, accessToken: string) {
    const iat = Math.floor(t.clock.now().getTime() / 1000);
    const proof = await makeProof(paired.device.key, { htm: 'GET', htu: `${t.origin}/api/v1/me`, ath: athOf(accessToken), iat });
    return rawRequest(t.origin, 'GET', '/api/v1/me', { Authorization: `DPoP ${accessToken}`, DPoP: proof });
  }

  it('P7 refreshed every 29 days it keeps working; 31 days without a refresh → invalid_grant', async () => {
    const { paired } = await freshPairing();
    let refreshToken = paired.refreshToken;
    for (let step = 0; step < 2; step++) {
      advance(29 * DAY);
      const response = await refreshNow(paired, refreshToken);
      expect(response.status, response.text).toBe(200);
      refreshToken = response.json?.refresh_token as string;
      const me = await meNow(paired, response.json?.access_token as string);
      expect(me.status, me.text).toBe(200);
    }
    advance(31 * DAY);
    const idle = await refreshNow(paired, refreshToken);
    expect(idle.status).toBe(400);
    expect(idle.json?.error).toBe('invalid_grant');
    expect(await auditReasons('token.exchange_failed')).toContain('pairing_expired');
  });

  it('P7 after a year the pairing ends even if it was refreshed all along', async () => {
    const { paired } = await freshPairing();
    let refreshToken = paired.refreshToken;
    let elapsed = 0;
    for (;;) {
      advance(29 * DAY);
      elapsed += 29 * DAY;
      const response = await refreshNow(paired, refreshToken);
      if (elapsed < 365 * DAY) {
        expect(response.status, `day ${elapsed / DAY}: ${response.text}`).toBe(200);
        refreshToken = response.json?.refresh_token as string;
      } else {
        expect(response.json?.error, `day ${elapsed / DAY}`).toBe('invalid_grant');
        break;
      }
    }
  });
});

describe('more ways a pairing must not be usable', () => {
  it('P11 an old refresh token replayed with another key: refused, and the rightful pairing is NOT revoked (no DoS by a thief without the key)', async () => {
    const { paired } = await freshPairing();
    const old = paired.refreshToken;
    await paired.device.refresh();
    const thief = await newKey();
    const stolen = await tokenWithProof(t, thief, refreshFields(old), await fetchNonce(t));
    expect(stolen.json?.error).toBe('invalid_grant');
    const session = await collection(t, 'sessions').findOne({ _id: paired.sessionId });
    expect(session?.revokedAt).toBeNull();
    await paired.device.refresh();
    expect((await paired.device.call('GET', '/api/v1/me')).status).toBe(200);
  });

  it('a refresh token presented under another registered client_id → invalid_grant', async () => {
    const { paired } = await freshPairing();
    const response = await tokenWithProof(
      t,
      paired.device.key,
      refreshFields(paired.refreshToken, 'gatehouse-extension'),
      await fetchNonce(t),
    );
    expect(response.status).toBe(400);
    expect(response.json?.error).toBe('invalid_grant');
  });

  it('the paired access token revoked with RFC 7009 → 401 at /api/v1/me; the refresh token still gets a new one', async () => {
    const { paired } = await freshPairing();
    const response = await revoke({ token: paired.accessToken, token_type_hint: 'access_token' });
    expect(response.status).toBe(200);
    expect((await paired.device.call('GET', '/api/v1/me', paired.accessToken)).status).toBe(401);
    await paired.device.refresh();
    expect((await paired.device.call('GET', '/api/v1/me')).status).toBe(200);
  });

  it('P7 approved, then the account is disabled before the device polls → invalid_grant, no session', async () => {
    const person = await signedInPerson(t);
    const device = await DeviceClient.create(t.origin);
    const started = await device.start();
    const decided = await pairPost(t, person, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
    expect(outcomeOf(decided.text)).toBe('approved');
    await t.services.admin.changeStatus({ kind: 'cli' }, person.user._id, 'disable');
    expect(await grantError(() => device.poll(started.device_code))).toBe('invalid_grant');
    expect(await collection(t, 'sessions').countDocuments({ userId: person.user._id, kind: 'extension' })).toBe(0);
  });

  it('P7 approved, then "sign out everywhere" (revoke-all) before the device polls → invalid_grant, no session', async () => {
    const person = await signedInPerson(t);
    const device = await DeviceClient.create(t.origin);
    const started = await device.start();
    const decided = await pairPost(t, person, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
    expect(outcomeOf(decided.text)).toBe('approved');
    await t.services.sessions.revokeAll(person.user._id, 'user_revoked_all');
    expect(await grantError(() => device.poll(started.device_code))).toBe('invalid_grant');
    expect(await collection(t, 'sessions').countDocuments({ userId: person.user._id, kind: 'extension', revokedAt: null })).toBe(0);
  });
});
