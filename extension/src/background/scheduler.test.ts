import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { setTokenExpiryListener } from '../oauth/tokens.js';
import { pairingStore, refreshTokenStore } from '../state/items.js';
import { configuredExtension, fakeBackend, json, ORIGIN, tokenResponse } from '../testing/fake-backend.js';
import { onAlarm, POLL_ALARM, REFRESH_ALARM, resumeWork, scheduleRefresh, stopPolling } from './scheduler.js';

describe('scheduling that survives a stopped service worker', () => {
  beforeEach(async () => {
    await configuredExtension();
    setTokenExpiryListener(scheduleRefresh);
  });
  afterEach(() => {
    stopPolling();
    vi.unstubAllGlobals();
  });

  it('resumes a pairing from storage.session after a restart, and the alarm completes it', async () => {
    await pairingStore.set({
      origin: ORIGIN,
      deviceCode: 'dc-1',
      userCode: 'ABCD2345',
      verificationUri: `${ORIGIN}/pair`,
      verificationUriComplete: `${ORIGIN}/pair?code=ABCD-2345`,
      phrase: 'acid acorn actor adobe',
      expiresAt: Date.now() + 600_000,
      interval: 5,
    });
    const server = fakeBackend()
      .once('POST', '/oauth/token', () => json({ error: 'authorization_pending' }, 400))
      .once('POST', '/oauth/token', () => tokenResponse('at-1', 'rt-1', 300));
    await resumeWork();
    const poll = await fakeBrowser.alarms.get(POLL_ALARM);
    // Chrome will not fire an alarm sooner than 30 s; the in-memory timer covers the 5 s interval.
    expect(poll?.scheduledTime).toBeGreaterThanOrEqual(Date.now() + 29_000);

    onAlarm({ name: POLL_ALARM });
    await vi.waitFor(() => expect(server.to('/oauth/token')).toHaveLength(1));
    expect(await refreshTokenStore.get()).toBeNull();
    onAlarm({ name: POLL_ALARM });
    await vi.waitFor(async () => expect(await refreshTokenStore.get()).toEqual({ token: 'rt-1', origin: ORIGIN }));

    // The access token lasts 5 minutes: the refresh alarm is set a minute before it ends.
    const refresh = await fakeBrowser.alarms.get(REFRESH_ALARM);
    expect(refresh?.scheduledTime).toBeGreaterThan(Date.now() + 200_000);
    expect(refresh?.scheduledTime).toBeLessThan(Date.now() + 300_000);
  });

  it('renews the access token when the refresh alarm fires', async () => {
    await refreshTokenStore.set({ token: 'rt-1', origin: ORIGIN });
    const server = fakeBackend().once('POST', '/oauth/token', () => tokenResponse('at-2', 'rt-2'));
    onAlarm({ name: REFRESH_ALARM });
    await vi.waitFor(async () => expect(await refreshTokenStore.get()).toMatchObject({ token: 'rt-2' }));
    expect(server.to('/oauth/token')[0]?.body.get('refresh_token')).toBe('rt-1');
  });

  it('does nothing on the refresh alarm when not paired', async () => {
    const server = fakeBackend();
    onAlarm({ name: REFRESH_ALARM });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.requests).toHaveLength(0);
  });
});
