import { fingerprintPhrase } from '@gatehouse/shared';
import * as oauth from 'oauth4webapi';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { readPopupState } from '../background/handlers.js';
import { loadOrCreateKeyPair } from '../crypto/key-store.js';
import { accessTokenStore, noticeStore, pairingStore, refreshTokenStore } from '../state/items.js';
import { configuredExtension, dpopPayload, fakeBackend, json, ORIGIN, tokenResponse } from '../testing/fake-backend.js';
import { cancelPairing, pollPairing, startPairing } from './pairing.js';

const DEVICE = {
  device_code: 'device-code-1',
  user_code: 'ABCD2345',
  verification_uri: `${ORIGIN}/pair`,
  verification_uri_complete: `${ORIGIN}/pair?code=ABCD-2345`,
  expires_in: 600,
  interval: 5,
};

describe('pairing (device authorization grant with DPoP)', () => {
  beforeEach(async () => {
    await configuredExtension();
  });
  afterEach(() => vi.unstubAllGlobals());

  async function started(server = fakeBackend()) {
    server.once('POST', '/oauth/device_authorization', () => json(DEVICE));
    await startPairing(1_000);
    return server;
  }

  it('asks for a device code with a DPoP proof and keeps the pairing in storage.session', async () => {
    const server = await started();
    const [request] = server.to('/oauth/device_authorization');
    expect(request?.body.get('client_id')).toBe('gatehouse-extension');
    expect(request?.body.get('scope')).toBe('profile:read sessions:read sessions:revoke activity:read');
    expect(dpopPayload(request as NonNullable<typeof request>)).toMatchObject({ htm: 'POST', htu: `${ORIGIN}/oauth/device_authorization` });

    const keys = await loadOrCreateKeyPair();
    const jkt = await oauth.DPoP({}, keys).calculateThumbprint();
    expect(await pairingStore.get()).toEqual({
      origin: ORIGIN,
      deviceCode: 'device-code-1',
      userCode: 'ABCD2345',
      verificationUri: `${ORIGIN}/pair`,
      verificationUriComplete: `${ORIGIN}/pair?code=ABCD-2345`,
      phrase: fingerprintPhrase(jkt),
      expiresAt: 601_000,
      interval: 5,
    });
    expect(Object.keys(await fakeBrowser.storage.session.get(null))).toContain('pairing');
    const state = await readPopupState(2_000);
    expect(state).toMatchObject({ state: 'pairing', pairing: { userCode: 'ABCD-2345', phrase: fingerprintPhrase(jkt) } });
  });

  it('answers a nonce challenge at the device authorization endpoint', async () => {
    const server = fakeBackend();
    server.once('POST', '/oauth/device_authorization', () => json({ error: 'use_dpop_nonce' }, 400, { 'dpop-nonce': 'n-9' }));
    await started(server);
    const proofs = server.to('/oauth/device_authorization').map(dpopPayload);
    expect(proofs.map((proof) => proof.nonce)).toEqual([undefined, 'n-9']);
  });

  it('keeps polling while pending, slows down when asked, and completes with the same key', async () => {
    const server = await started();
    server.once('POST', '/oauth/token', () => json({ error: 'use_dpop_nonce' }, 400, { 'dpop-nonce': 'n-1' }));
    server.once('POST', '/oauth/token', () => json({ error: 'authorization_pending' }, 400));
    server.once('POST', '/oauth/token', () => json({ error: 'slow_down' }, 400));
    server.once('POST', '/oauth/token', () => tokenResponse('at-1', 'rt-1'));

    await expect(pollPairing(2_000)).resolves.toEqual({ status: 'pending', next: 5_000 });
    await expect(pollPairing(3_000)).resolves.toEqual({ status: 'pending', next: 10_000 });
    expect((await pairingStore.get())?.interval).toBe(10);
    await expect(pollPairing(4_000)).resolves.toEqual({ status: 'paired' });

    const polls = server.to('/oauth/token');
    expect(polls.map((request) => request.body.get('grant_type'))).toEqual(Array(4).fill('urn:ietf:params:oauth:grant-type:device_code'));
    expect(polls.map((request) => request.body.get('device_code'))).toEqual(Array(4).fill('device-code-1'));
    // Every proof, from the device authorization request to the last poll, is signed by one key.
    const header = (request: (typeof polls)[0]) => (request?.headers.get('dpop') ?? '').split('.')[0] ?? '';
    const jwkOf = (request: (typeof polls)[0]) =>
      JSON.stringify(JSON.parse(atob(header(request).replaceAll('-', '+').replaceAll('_', '/'))).jwk);
    const keys = new Set([...server.to('/oauth/device_authorization'), ...polls].map(jwkOf));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toContain('"crv":"P-256"');

    expect(await refreshTokenStore.get()).toEqual({ token: 'rt-1', origin: ORIGIN });
    expect((await accessTokenStore.get())?.token).toBe('at-1');
    expect(await pairingStore.get()).toBeNull();
    expect((await readPopupState()).state).toBe('paired');
  });

  it.each([
    ['access_denied', 'PAIRING_DECLINED', /declined/],
    ['expired_token', 'PAIRING_EXPIRED', /expired/],
  ])('ends the pairing on %s with a sentence', async (error, code, sentence) => {
    const server = await started();
    server.once('POST', '/oauth/token', () => json({ error }, 400));
    await expect(pollPairing(2_000)).resolves.toEqual({ status: 'ended', code });
    expect(await pairingStore.get()).toBeNull();
    expect((await noticeStore.get())?.message).toMatch(sentence);
    const state = await readPopupState();
    expect(state.state).toBe('not-paired');
    expect(state.notice?.code).toBe(code);
  });

  it('gives up locally once the code has expired, without asking the backend', async () => {
    const server = await started();
    await expect(pollPairing(601_000)).resolves.toEqual({ status: 'ended', code: 'PAIRING_EXPIRED' });
    expect(server.to('/oauth/token')).toHaveLength(0);
  });

  it('keeps the pairing when the backend cannot be reached for a moment', async () => {
    await started();
    await expect(pollPairing(2_000)).resolves.toEqual({ status: 'pending', next: 10_000 });
    expect(await pairingStore.get()).not.toBeNull();
  });

  it('stops after cancel', async () => {
    const server = await started();
    await cancelPairing();
    await expect(pollPairing(2_000)).resolves.toEqual({ status: 'idle' });
    expect(server.to('/oauth/token')).toHaveLength(0);
    expect((await readPopupState()).state).toBe('not-paired');
  });

  it('revokes the previous refresh token when a re-pairing completes', async () => {
    await refreshTokenStore.set({ token: 'rt-old', origin: ORIGIN });
    const server = await started();
    server.once('POST', '/oauth/token', () => tokenResponse('at-new', 'rt-new'));
    server.once('POST', '/oauth/revoke', () => new Response(null, { status: 200 }));
    await expect(pollPairing(2_000)).resolves.toEqual({ status: 'paired' });
    await vi.waitFor(() => expect(server.to('/oauth/revoke')).toHaveLength(1));
    const [revoke] = server.to('/oauth/revoke');
    expect(Object.fromEntries(revoke?.body ?? [])).toEqual({
      client_id: 'gatehouse-extension',
      token: 'rt-old',
      token_type_hint: 'refresh_token',
    });
    expect(await refreshTokenStore.get()).toEqual({ token: 'rt-new', origin: ORIGIN });
  });
});
