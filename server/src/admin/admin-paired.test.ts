// Central shutdown reaches paired clients too (issue #6 "done when", the extension's token
// types): an admin disable or ban made through instance A is refused on instance B at the very
// next request, for the paired client's DPoP access token and for its credential exchange
// (refresh_token grant), 100 times, no sleeps. Both instances serve one public URL, as behind a
// load balancer; the client's requests are routed to B.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createListeningApp, DeviceClient, grantError, type ListeningApp } from '../../test/device-client.js';
import { createUser, startBrowserSession } from '../../test/harness.js';
import type { User } from '../users/index.js';

describe('admin shutdown of paired clients across instances', () => {
  let a: ListeningApp;
  let b: ListeningApp;
  let admin: User;
  let adminHeaders: Record<string, string>;

  beforeAll(async () => {
    a = await createListeningApp();
    b = await createListeningApp({ PUBLIC_URL: a.origin }, { sharedWith: a });
    admin = await createUser(a, { name: 'Ada Admin', roles: ['admin', 'user'] });
    const { cookie, sessionId } = await startBrowserSession(a, admin);
    adminHeaders = { Cookie: cookie, Origin: a.origin, 'X-CSRF-Token': a.services.csrf.forSession(sessionId) };
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  /** A person with a freshly paired client whose requests all go to instance B. */
  async function pairedPerson(round: number): Promise<{ person: User; device: DeviceClient }> {
    const person = await createUser(a, { name: `Paired ${round}` });
    const device = await DeviceClient.create(a.origin);
    device.via = b.origin;
    const started = await device.start();
    const meta = { requestId: `round-${round}`, ip: '127.0.0.1', userAgent: 'test' };
    expect(await a.services.pairing.decide(started.user_code, person, 'approve', meta)).not.toBeNull();
    await device.poll(started.device_code);
    return { person, device };
  }

  it('disable and ban through A stop the DPoP access token and the exchange on B at the next request, 100 times', async () => {
    for (let round = 0; round < 100; round++) {
      const { person, device } = await pairedPerson(round);
      expect((await device.call('GET', '/api/v1/me')).status).toBe(200);
      const change = round % 2 === 0 ? 'disable' : 'ban';
      const response = await fetch(`${a.origin}/api/v1/admin/users/${person._id}/${change}`, { method: 'POST', headers: adminHeaders });
      expect(response.status).toBe(200);

      const viaAccessToken = await device.call('GET', '/api/v1/me');
      expect(viaAccessToken.status).toBe(401);
      expect((await viaAccessToken.json()).code).toBe('TOKEN_ACCOUNT_DISABLED');
      expect(await grantError(() => device.refresh())).toBe('invalid_grant');
    }
  }, 300_000);
});
