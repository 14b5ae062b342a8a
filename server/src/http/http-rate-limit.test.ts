// docs/security-tests.md N10: the rate-limit key is the socket address, or the entry the configured number
// of trusted proxies wrote into X-Forwarded-For (counted from the right), never the left-most
// entry a client can write itself. A 429 carries Retry-After and RATE_LIMITED, and the first
// refusal leaves a `rate_limit.tripped` audit entry keyed by the same address.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp } from '../../test/harness.js';
import { expectProblem, expectStillServing, SecretWatch } from '../../test/http-checks.js';

const watch = new SecretWatch();
afterAll(() => watch.closeAll());

const LIMIT = 5;

async function limitedApp(env: Record<string, string>): Promise<TestApp> {
  return watch.track(await createTestApp({ RATE_LIMIT_PER_MINUTE: String(LIMIT), ...env }));
}

function get(t: TestApp, forwardedFor?: string, path = '/sign-in') {
  const request = t.http.get(path).set('Accept', 'application/json');
  if (forwardedFor !== undefined) request.set('X-Forwarded-For', forwardedFor);
  return request;
}

/** A 429 as the general rule wants it: problem details, RATE_LIMITED, a sane Retry-After. */
function expectLimited(response: Awaited<ReturnType<typeof get>>) {
  expectProblem(response, 429, 'RATE_LIMITED');
  const retryAfter = Number(response.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

/** The `rate_limit.tripped` entry (written best-effort, after the response) for this address. */
async function expectTripAudited(t: TestApp, ip: string, reason: string) {
  const ipIndex = t.deps.ipCipher.blindIndex(ip);
  await vi.waitFor(
    async () => {
      const entry = await t.db.collection('audit').findOne({ action: 'rate_limit.tripped', ipIndex });
      expect(entry).toMatchObject({ outcome: 'refused', actor: 'anonymous', details: { reason } });
      // Stored encrypted, never as the plain address.
      expect(JSON.stringify(entry)).not.toContain(ip);
    },
    { timeout: 5_000, interval: 50 },
  );
}

describe('N10 rate-limit key', () => {
  it('N10 with TRUST_PROXY_HOPS=0 a spoofed X-Forwarded-For changes nothing: varying values run into the same 429', async () => {
    const t = await limitedApp({ TRUST_PROXY_HOPS: '0' });
    for (let i = 0; i < LIMIT; i++) expect((await get(t, `198.51.100.${i}`)).status).toBe(200);
    expectLimited(await get(t, '198.51.100.99'));
    expectLimited(await get(t, '203.0.113.1, 198.51.100.200'));
    expectLimited(await get(t));
    await expectTripAudited(t, '127.0.0.1', 'general');
    expect(await t.db.collection('audit').countDocuments({ ipIndex: t.deps.ipCipher.blindIndex('198.51.100.99') })).toBe(0);
  });

  it('N10 with TRUST_PROXY_HOPS=1 the right-most entry is the key, whatever the client wrote to its left', async () => {
    const t = await limitedApp({ TRUST_PROXY_HOPS: '1' });
    for (let i = 0; i < LIMIT; i++) expect((await get(t, `10.0.0.${i}, 203.0.113.50`)).status).toBe(200);
    expectLimited(await get(t, '10.9.9.9, 203.0.113.50'));
    expectLimited(await get(t, '203.0.113.50'));
    await expectTripAudited(t, '203.0.113.50', 'general');
  });

  it('N10 with TRUST_PROXY_HOPS=1 the left-most entry is never the key: the limited address on the left is still served', async () => {
    const t = await limitedApp({ TRUST_PROXY_HOPS: '1' });
    for (let i = 0; i < LIMIT; i++) await get(t, '203.0.113.60');
    expectLimited(await get(t, '203.0.113.60'));
    // A client can't borrow someone else's bucket (or escape its own) by writing to the left.
    expect((await get(t, '203.0.113.60, 203.0.113.61')).status).toBe(200);
    expectLimited(await get(t, '203.0.113.61, 203.0.113.60'));
  });

  it('N10 with TRUST_PROXY_HOPS=1 a malformed right-most entry falls back to the socket address, not the left-most', async () => {
    const t = await limitedApp({ TRUST_PROXY_HOPS: '1' });
    for (let i = 0; i < LIMIT; i++) expect((await get(t, `198.51.100.${i}, not-an-ip`)).status).toBe(200);
    expectLimited(await get(t, '198.51.100.77, ::ffff:999.1.1.1'));
    await expectTripAudited(t, '127.0.0.1', 'general');
  });

  it('N10 with TRUST_PROXY_HOPS=2 the second entry from the right is the key', async () => {
    const t = await limitedApp({ TRUST_PROXY_HOPS: '2' });
    for (let i = 0; i < LIMIT; i++) expect((await get(t, `10.0.0.${i}, 203.0.113.70, 192.0.2.${i}`)).status).toBe(200);
    expectLimited(await get(t, '10.1.1.1, 203.0.113.70, 192.0.2.99'));
    await expectTripAudited(t, '203.0.113.70', 'general');
  });

  it('N10 an IPv6 client is counted by its /64: rotating through its own network does not dodge the limit', async () => {
    const t = await limitedApp({ TRUST_PROXY_HOPS: '1' });
    for (let i = 0; i < LIMIT; i++) expect((await get(t, `2001:db8:7:7::${i + 1}`)).status).toBe(200);
    expectLimited(await get(t, '2001:db8:7:7:ffff::99'));
    expect((await get(t, '2001:db8:7:8::1')).status).toBe(200);
  });

  it('N10 the sign-in limiter counts login starts per address with its own bucket and audit reason', async () => {
    const t = watch.track(await createTestApp({ RATE_LIMIT_SIGN_IN_PER_MINUTE: '2', TRUST_PROXY_HOPS: '1' }));
    for (let i = 0; i < 2; i++) expect((await get(t, `10.0.0.${i}, 203.0.113.80`, '/auth/dev/login')).status).toBe(302);
    const limited = await get(t, '10.0.0.9, 203.0.113.80', '/auth/dev/login');
    expectLimited(limited);
    expect(limited.headers['set-cookie']).toBeUndefined();
    expect(limited.headers.location).toBeUndefined();
    await expectTripAudited(t, '203.0.113.80', 'sign-in');
    // Pages outside sign-in still answer for that address, and other addresses can sign in.
    expect((await get(t, '203.0.113.80')).status).toBe(200);
    expect((await get(t, '203.0.113.81', '/auth/dev/login')).status).toBe(302);
  });

  it('N10 health probes are never limited, and the limited process keeps serving others', async () => {
    const t = await limitedApp({ TRUST_PROXY_HOPS: '1' });
    for (let i = 0; i <= LIMIT; i++) await get(t, '203.0.113.90');
    expectLimited(await get(t, '203.0.113.90'));
    for (let i = 0; i < 3 * LIMIT; i++) expect((await get(t, '203.0.113.90', '/healthz')).status).toBe(200);
    expect((await get(t, '203.0.113.91')).status).toBe(200);
    await expectStillServing(watch.track(await createTestApp()));
  });

  it('N10 one audit entry per tripped window, not one per refused request', async () => {
    const t = await limitedApp({ TRUST_PROXY_HOPS: '1' });
    for (let i = 0; i < LIMIT + 10; i++) await get(t, '203.0.113.100');
    await expectTripAudited(t, '203.0.113.100', 'general');
    const ipIndex = t.deps.ipCipher.blindIndex('203.0.113.100');
    expect(await t.db.collection('audit').countDocuments({ action: 'rate_limit.tripped', ipIndex })).toBe(1);
  });
});

// docs/security-tests.md N15: the general limit counts every request in each instance's memory
// (no Redis round trip on the hot path) and every refusal in Redis, shared by all instances.
describe('N15 general limit across instances', () => {
  async function pair(): Promise<[TestApp, TestApp]> {
    const a = await limitedApp({ TRUST_PROXY_HOPS: '1' });
    const b = watch.track(await createTestApp({ RATE_LIMIT_PER_MINUTE: String(LIMIT), TRUST_PROXY_HOPS: '1' }, { sharedWith: a }));
    return [a, b];
  }
  const refused = (t: TestApp, ip: string) => t.http.get('/api/v1/me').set('Accept', 'application/json').set('X-Forwarded-For', ip);

  it('N15 refusals spread over two instances share one budget: each lets at most one more through, then 429 for everything', async () => {
    const [a, b] = await pair();
    const ip = '203.0.113.120';
    for (let i = 0; i < LIMIT; i++) expectProblem(await refused(i % 2 === 0 ? a : b, ip), 401, 'UNAUTHENTICATED');
    // B finds the shared budget spent while answering this one, and blocks the address from then on.
    expectProblem(await refused(b, ip), 401, 'UNAUTHENTICATED');
    expectLimited(await refused(b, ip));
    expectLimited(await get(b, ip));
    expectProblem(await refused(a, ip), 401, 'UNAUTHENTICATED');
    expectLimited(await refused(a, ip));
    expectLimited(await get(a, ip));
    await expectTripAudited(a, ip, 'general');
    // Another address is untouched on both.
    expect((await get(a, '203.0.113.121')).status).toBe(200);
    expect((await get(b, '203.0.113.121')).status).toBe(200);
  });

  it('N15 answered requests count per instance: a spent budget on one leaves the other serving, and spends no shared point', async () => {
    const [a, b] = await pair();
    const ip = '203.0.113.130';
    for (let i = 0; i < LIMIT; i++) expect((await get(a, ip)).status).toBe(200);
    expectLimited(await get(a, ip));
    expect((await get(b, ip)).status).toBe(200);
    // A's answered requests spent no shared point: B answers refusals up to its own request budget
    // (had they counted, B would block after its first refusal).
    for (let i = 0; i < LIMIT - 1; i++) expectProblem(await refused(b, ip), 401, 'UNAUTHENTICATED');
    expectLimited(await get(b, ip));
  });
});

it('keeps the bootstrap password and master key out of the logs', () => {
  watch.expectNoSecretInLogs();
});
