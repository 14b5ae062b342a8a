import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { storage } from 'wxt/utils/storage';
import { METADATA, ORIGIN } from '../testing/fake-backend.js';
import { accessTokenStore, backendStore, clearCredentials, noticeStore, pairingStore, refreshTokenStore } from './items.js';

describe('stored state', () => {
  beforeEach(() => fakeBrowser.reset());

  it('keeps the refresh token in storage.local and the access token and pairing in storage.session', async () => {
    await refreshTokenStore.set({ token: 'rt', origin: ORIGIN });
    await accessTokenStore.set({ token: 'at', origin: ORIGIN, expiresAt: 1 });
    await pairingStore.set({
      origin: ORIGIN,
      deviceCode: 'dc',
      userCode: 'ABCD2345',
      verificationUri: `${ORIGIN}/pair`,
      verificationUriComplete: `${ORIGIN}/pair?code=ABCD-2345`,
      phrase: 'acid acorn actor adobe',
      expiresAt: 2,
      interval: 5,
    });
    expect(await fakeBrowser.storage.local.get('refreshToken')).toEqual({ refreshToken: { token: 'rt', origin: ORIGIN } });
    expect(await fakeBrowser.storage.local.get(['accessToken', 'pairing'])).toEqual({});
    expect(Object.keys(await fakeBrowser.storage.session.get(null)).sort()).toEqual(['accessToken', 'pairing']);
  });

  it('reads values it cannot parse as absent', async () => {
    await storage.setItem('local:refreshToken', { token: 42 });
    await storage.setItem('local:backend', { origin: ORIGIN, metadata: { issuer: ORIGIN } });
    expect(await refreshTokenStore.get()).toBeNull();
    expect(await backendStore.get()).toBeNull();
  });

  it('refuses to write a value that does not match its schema', async () => {
    await expect(refreshTokenStore.set({ token: '', origin: ORIGIN })).rejects.toThrow();
  });

  it('clearCredentials forgets tokens and pairing but keeps the backend and the notice', async () => {
    await backendStore.set({ origin: ORIGIN, metadata: METADATA });
    await refreshTokenStore.set({ token: 'rt', origin: ORIGIN });
    await accessTokenStore.set({ token: 'at', origin: ORIGIN, expiresAt: 1 });
    await noticeStore.set({ code: 'PAIRING_ENDED', message: 'm' });
    await clearCredentials();
    expect(await refreshTokenStore.get()).toBeNull();
    expect(await accessTokenStore.get()).toBeNull();
    expect(await pairingStore.get()).toBeNull();
    expect(await backendStore.get()).toEqual({ origin: ORIGIN, metadata: expect.objectContaining({ issuer: ORIGIN }) });
    expect(await noticeStore.get()).toEqual({ code: 'PAIRING_ENDED', message: 'm' });
  });
});
