// The whole pairing journey with a client that is not the extension: a plain oauth4webapi
// device-flow client pairs, calls the API with DPoP, refreshes (rotating its refresh token)
// and revokes — the flow is the standard one, not extension-specific.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createListeningApp, DeviceClient, decideOnPairPage, grantError, type ListeningApp } from '../../test/device-client.js';
import { createUser, startBrowserSession } from '../../test/harness.js';
import type { User } from '../users/index.js';

let t: ListeningApp;
let alice: User;
let browser: { cookie: string; sessionId: string };

beforeAll(async () => {
  t = await createListeningApp({ DEVICE_POLL_INTERVAL_SECONDS: '1' });
  alice = await createUser(t);
  browser = await startBrowserSession(t, alice);
});
afterAll(() => t.close());

describe('pairing with a standard device-flow client', () => {
  it('pairs, calls the API with DPoP, refreshes with rotation and revokes', async () => {
    const device = await DeviceClient.create(t.origin);
    const started = await device.start();
    expect(started.user_code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(await grantError(() => device.poll(started.device_code))).toBe('authorization_pending');

    const { lookup, decide } = await decideOnPairPage(t, browser, started.user_code, 'approve');
    expect(lookup.status).toBe(200);
    expect(decide.html).toContain('data-outcome="approved"');

    await new Promise((resolve) => setTimeout(resolve, 600));
    const tokens = await device.poll(started.device_code);
    expect(tokens.token_type.toLowerCase()).toBe('dpop');

    const me = await device.call('GET', '/api/v1/me');
    expect(me.status).toBe(200);
    const sessions = await (await device.call('GET', '/api/v1/me/sessions')).json();
    const own = sessions.sessions.find((session: { current: boolean }) => session.current);
    expect(own.kind).toBe('extension');

    const first = device.refreshToken;
    await device.refresh();
    expect(device.refreshToken).not.toBe(first);
    expect((await device.call('GET', '/api/v1/me')).status).toBe(200);

    await device.revoke();
    expect(await grantError(() => device.refresh())).toBe('invalid_grant');
  }, 30_000);
});
