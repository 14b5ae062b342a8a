import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { deleteKeyPair, loadKeyPair, loadOrCreateKeyPair } from '../crypto/key-store.js';
import { accessTokenStore, backendStore, refreshTokenStore } from '../state/items.js';
import { fakeBackend, json, METADATA, ORIGIN } from '../testing/fake-backend.js';
import { disconnect, setBackend } from './backend.js';
import { readPopupState } from './handlers.js';

describe('backend configuration', () => {
  beforeEach(async () => {
    fakeBrowser.reset();
    await deleteKeyPair();
  });
  afterEach(() => vi.unstubAllGlobals());

  it('stores a backend whose metadata names it as issuer', async () => {
    const server = fakeBackend().once('GET', '/.well-known/oauth-authorization-server', () => json(METADATA));
    await expect(setBackend(`${ORIGIN}/`)).resolves.toEqual({ backend: ORIGIN });
    expect(server.requests[0]?.url).toBe(`${ORIGIN}/.well-known/oauth-authorization-server`);
    expect((await backendStore.get())?.metadata.token_endpoint).toBe(`${ORIGIN}/oauth/token`);
    expect((await readPopupState()).state).toBe('not-paired');
  });

  it.each([
    ['another issuer', { ...METADATA, issuer: 'https://elsewhere.example' }],
    ['an issuer with a path', { ...METADATA, issuer: `${ORIGIN}/tenant` }],
    ['a token endpoint on another origin', { ...METADATA, token_endpoint: 'https://elsewhere.example/token' }],
    ['no device grant', { ...METADATA, grant_types_supported: ['refresh_token'] }],
    ['no ES256 DPoP', { ...METADATA, dpop_signing_alg_values_supported: ['RS256'] }],
  ])('refuses metadata with %s', async (_name, metadata) => {
    fakeBackend().once('GET', '/.well-known/oauth-authorization-server', () => json(metadata));
    await expect(setBackend(ORIGIN)).rejects.toMatchObject({ code: 'BACKEND_INVALID' });
    expect(await backendStore.get()).toBeNull();
  });

  it('says so when the backend cannot be reached', async () => {
    fakeBackend();
    await expect(setBackend(ORIGIN)).rejects.toMatchObject({ code: 'BACKEND_UNREACHABLE' });
  });

  it('refuses an address the validator refuses, before any request', async () => {
    const server = fakeBackend();
    await expect(setBackend('http://gatehouse.example.com')).rejects.toMatchObject({ code: 'BACKEND_INVALID' });
    expect(server.requests).toHaveLength(0);
  });

  it('disconnect wipes everything locally and revokes the refresh token', async () => {
    await backendStore.set({ origin: ORIGIN, metadata: METADATA });
    await refreshTokenStore.set({ token: 'rt-1', origin: ORIGIN });
    await accessTokenStore.set({ token: 'at-1', origin: ORIGIN, expiresAt: Date.now() + 60_000 });
    await loadOrCreateKeyPair();
    const server = fakeBackend().once('POST', '/oauth/revoke', () => new Response(null, { status: 200 }));
    await disconnect();
    expect(server.to('/oauth/revoke')[0]?.body.get('token')).toBe('rt-1');
    expect(await refreshTokenStore.get()).toBeNull();
    expect(await accessTokenStore.get()).toBeNull();
    expect(await backendStore.get()).toBeNull();
    expect(await loadKeyPair()).toBeNull();
    expect((await readPopupState()).state).toBe('not-configured');
  });

  it('disconnect still wipes when the revocation fails', async () => {
    await backendStore.set({ origin: ORIGIN, metadata: METADATA });
    await refreshTokenStore.set({ token: 'rt-1', origin: ORIGIN });
    fakeBackend();
    await disconnect();
    expect(await refreshTokenStore.get()).toBeNull();
  });
});
