import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readPopupState } from '../background/handlers.js';
import { accessTokenStore, refreshTokenStore } from '../state/items.js';
import { configuredExtension, dpopPayload, fakeBackend, json, ORIGIN, tokenResponse } from '../testing/fake-backend.js';
import { fetchAccount, revokeOtherSessions, revokeSession } from './account.js';

const ME = { id: 'u1', name: 'Alice', email: 'alice@example.com', roles: ['user'], status: 'active' };
const SESSION = {
  id: 's1',
  kind: 'extension',
  device: 'Gatehouse extension',
  expiresAt: '2030-01-01T00:00:00.000Z',
  createdAt: '2026-01-01T00:00:00.000Z',
  lastSeenAt: '2026-01-01T00:00:00.000Z',
  ip: null,
  current: true,
};
const ACTIVITY = {
  time: '2026-01-01T00:00:00.000Z',
  action: 'pairing.completed',
  outcome: 'success',
  description: 'Device paired',
  ip: null,
  device: 'Chrome 156 on Linux',
};
const invalidToken = () => json({ error: 'invalid_token' }, 401, { 'www-authenticate': 'DPoP error="invalid_token", algs="ES256"' });

describe('API calls with the DPoP-bound access token', () => {
  beforeEach(async () => {
    await configuredExtension();
    await refreshTokenStore.set({ token: 'rt-1', origin: ORIGIN });
    await accessTokenStore.set({ token: 'at-1', origin: ORIGIN, expiresAt: Date.now() + 300_000 });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('sends the token as DPoP with a proof bound to it (ath) and reads account and sessions', async () => {
    const server = fakeBackend()
      .once('GET', '/api/v1/me', () => json(ME))
      .once('GET', '/api/v1/me/sessions', () => json({ sessions: [SESSION], next: null }))
      .once('GET', '/api/v1/me/activity', () => json({ activity: [ACTIVITY] }));
    await expect(fetchAccount()).resolves.toEqual({ account: ME, sessions: [SESSION], activity: [ACTIVITY] });
    const [me, sessions] = server.requests;
    expect(me?.headers.get('authorization')).toBe('DPoP at-1');
    expect(dpopPayload(me as NonNullable<typeof me>)).toMatchObject({ htm: 'GET', htu: `${ORIGIN}/api/v1/me`, ath: expect.any(String) });
    expect(sessions?.url).toBe(`${ORIGIN}/api/v1/me/sessions?limit=50`);
  });

  it('shows no activity, rather than failing, when the grant may not read it', async () => {
    fakeBackend()
      .once('GET', '/api/v1/me', () => json(ME))
      .once('GET', '/api/v1/me/sessions', () => json({ sessions: [SESSION], next: null }))
      .once('GET', '/api/v1/me/activity', () => json({ code: 'INSUFFICIENT_SCOPE', status: 403, title: 'x', type: 'x' }, 403));
    await expect(fetchAccount()).resolves.toEqual({ account: ME, sessions: [SESSION], activity: [] });
  });

  it('refreshes once and retries when the access token is rejected', async () => {
    const server = fakeBackend()
      .once('DELETE', '/api/v1/me/sessions/s2', invalidToken)
      .once('POST', '/oauth/token', () => tokenResponse('at-2', 'rt-2'))
      .once('DELETE', '/api/v1/me/sessions/s2', () => new Response(null, { status: 204 }));
    await revokeSession('s2');
    expect(server.to('/api/v1/me/sessions/s2').map((request) => request.headers.get('authorization'))).toEqual(['DPoP at-1', 'DPoP at-2']);
    expect(await refreshTokenStore.get()).toMatchObject({ token: 'rt-2' });
  });

  it('answers a nonce challenge from the API once', async () => {
    const server = fakeBackend()
      .once('POST', '/api/v1/me/sessions/revoke-others', () =>
        json({}, 401, { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'rs-nonce' }),
      )
      .once('POST', '/api/v1/me/sessions/revoke-others', () => json({ revoked: 3 }));
    await expect(revokeOtherSessions()).resolves.toBe(3);
    expect(server.requests.map((request) => dpopPayload(request).nonce)).toEqual([undefined, 'rs-nonce']);
  });

  it('goes back to not paired, with the reason, when the pairing was revoked', async () => {
    const server = fakeBackend()
      .once('GET', '/api/v1/me', invalidToken)
      .once('POST', '/oauth/token', () => json({ error: 'invalid_grant' }, 400));
    await expect(fetchAccount()).rejects.toMatchObject({ code: 'PAIRING_ENDED' });
    expect(server.requests).toHaveLength(2);
    const state = await readPopupState();
    expect(state.state).toBe('not-paired');
    expect(state.notice?.message).toMatch(/ended.*Pair this browser/);
  });

  it('does not loop when the refreshed token is rejected too', async () => {
    const server = fakeBackend()
      .always('GET', '/api/v1/me', invalidToken)
      .once('POST', '/oauth/token', () => tokenResponse('at-2', 'rt-2'));
    await expect(fetchAccount()).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    expect(server.to('/api/v1/me')).toHaveLength(2);
  });

  it('turns problem details into the shared sentence', async () => {
    fakeBackend().once('DELETE', '/api/v1/me/sessions/nope', () =>
      json({ type: 'x', title: 'No such session.', status: 404, code: 'SESSION_NOT_FOUND' }, 404),
    );
    await expect(revokeSession('nope')).rejects.toMatchObject({
      code: 'SESSION_NOT_FOUND',
      message: expect.stringContaining('No such session.'),
    });
  });
});
