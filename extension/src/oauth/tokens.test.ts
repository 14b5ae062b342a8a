import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { accessTokenStore, noticeStore, refreshTokenStore } from '../state/items.js';
import { configuredExtension, dpopPayload, fakeBackend, json, ORIGIN, tokenResponse } from '../testing/fake-backend.js';
import { getAccessToken } from './tokens.js';

describe('getAccessToken', () => {
  beforeEach(async () => {
    await configuredExtension();
    await refreshTokenStore.set({ token: 'rt-1', origin: ORIGIN });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('uses a stored access token that is still valid, without calling the backend', async () => {
    const server = fakeBackend();
    await accessTokenStore.set({ token: 'at-0', origin: ORIGIN, expiresAt: Date.now() + 120_000 });
    await expect(getAccessToken()).resolves.toBe('at-0');
    expect(server.requests).toHaveLength(0);
  });

  it('refreshes once for concurrent callers and stores the rotated refresh token', async () => {
    const server = fakeBackend();
    server.once('POST', '/oauth/token', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return tokenResponse('at-1', 'rt-2');
    });
    const tokens = await Promise.all([getAccessToken(), getAccessToken(), getAccessToken()]);
    expect(tokens).toEqual(['at-1', 'at-1', 'at-1']);
    expect(server.to('/oauth/token')).toHaveLength(1);
    const [request] = server.to('/oauth/token');
    expect(request?.body.get('grant_type')).toBe('refresh_token');
    expect(request?.body.get('refresh_token')).toBe('rt-1');
    expect(request?.body.get('client_id')).toBe('gatehouse-extension');
    expect(dpopPayload(request as NonNullable<typeof request>)).toMatchObject({ htm: 'POST', htu: `${ORIGIN}/oauth/token` });
    expect(await refreshTokenStore.get()).toEqual({ token: 'rt-2', origin: ORIGIN });
    expect((await accessTokenStore.get())?.token).toBe('at-1');
  });

  it('never sends a spent refresh token: back-to-back forced refreshes use each rotation', async () => {
    const server = fakeBackend();
    server.once('POST', '/oauth/token', () => tokenResponse('at-1', 'rt-2'));
    server.once('POST', '/oauth/token', () => tokenResponse('at-2', 'rt-3'));
    const first = getAccessToken();
    const second = getAccessToken({ stale: 'at-1' });
    expect(await first).toBe('at-1');
    expect(await second).toBe('at-2');
    expect(server.to('/oauth/token').map((request) => request.body.get('refresh_token'))).toEqual(['rt-1', 'rt-2']);
    expect(await refreshTokenStore.get()).toMatchObject({ token: 'rt-3' });
  });

  it('does not refresh again when another caller already replaced the stale token', async () => {
    const server = fakeBackend();
    server.once('POST', '/oauth/token', () => tokenResponse('at-1', 'rt-2'));
    await getAccessToken();
    await expect(getAccessToken({ stale: 'at-0' })).resolves.toBe('at-1');
    expect(server.to('/oauth/token')).toHaveLength(1);
  });

  it('retries once with the server nonce', async () => {
    const server = fakeBackend();
    server.once('POST', '/oauth/token', () => json({ error: 'use_dpop_nonce' }, 400, { 'dpop-nonce': 'n-1' }));
    server.once('POST', '/oauth/token', () => tokenResponse('at-1', 'rt-2'));
    await expect(getAccessToken()).resolves.toBe('at-1');
    const [first, second] = server.to('/oauth/token').map(dpopPayload);
    expect(first?.nonce).toBeUndefined();
    expect(second?.nonce).toBe('n-1');
    expect(server.to('/oauth/token').map((request) => request.body.get('refresh_token'))).toEqual(['rt-1', 'rt-1']);
  });

  it('wipes every credential and leaves a notice when the pairing is gone (invalid_grant)', async () => {
    const server = fakeBackend();
    server.once('POST', '/oauth/token', () => json({ error: 'invalid_grant' }, 400));
    await accessTokenStore.set({ token: 'at-0', origin: ORIGIN, expiresAt: Date.now() - 1 });
    await expect(getAccessToken()).rejects.toMatchObject({ code: 'PAIRING_ENDED' });
    expect(await refreshTokenStore.get()).toBeNull();
    expect(await accessTokenStore.get()).toBeNull();
    expect((await noticeStore.get())?.message).toMatch(/pairing with Gatehouse was ended/);
    await expect(getAccessToken()).rejects.toMatchObject({ code: 'NOT_PAIRED' });
    expect(server.to('/oauth/token')).toHaveLength(1);
  });

  it('keeps the refresh token when the backend cannot be reached', async () => {
    fakeBackend();
    await expect(getAccessToken()).rejects.toMatchObject({ code: 'BACKEND_UNREACHABLE' });
    expect(await refreshTokenStore.get()).toEqual({ token: 'rt-1', origin: ORIGIN });
  });

  it('keeps the old refresh token when the response carries no new one', async () => {
    const server = fakeBackend();
    server.once('POST', '/oauth/token', () => json({ access_token: 'at-1', token_type: 'DPoP', expires_in: 60 }));
    await expect(getAccessToken()).resolves.toBe('at-1');
    expect(await refreshTokenStore.get()).toMatchObject({ token: 'rt-1' });
    expect(server.requests).toHaveLength(1);
  });
});
