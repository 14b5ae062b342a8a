// docs/security-tests.md P1: guessing user codes on the pair page. Every wrong code costs a point from
// the per-address, the per-user and the global budget (PAIRING_CODE_FAILURES_PER_HOUR,
// PAIRING_CODE_FAILURES_GLOBAL_PER_HOUR); once one is spent the answer is 429 whatever is
// typed — a valid code included, so the limiter never tells a guesser they hit. Spoofed
// X-Forwarded-For buys nothing: with TRUST_PROXY_HOPS=0 it is ignored, and with a trusted
// proxy every address still draws on the same user's and the global budget. Nothing is ever
// approved, each failure is audited, and a tripped budget leaves a `rate_limit.tripped` alert.
import { afterAll, describe, expect, it } from 'vitest';
import { createListeningApp, grantError, type ListeningApp } from '../../test/device-client.js';
import { collection } from '../../test/http-checks.js';
import { eventually, type Person, pairPost, type RawResponse, signedInPerson, startPairing } from '../../test/pairing-helpers.js';

const apps: ListeningApp[] = [];
afterAll(() => Promise.all(apps.map((app) => app.close())));

async function app(env: Record<string, string>): Promise<ListeningApp> {
  const t = await createListeningApp({ DEVICE_POLL_INTERVAL_SECONDS: '1', PAIRING_STARTS_PER_MINUTE: '1000', ...env });
  apps.push(t);
  return t;
}

/** Wrong codes that are well-formed (8 alphabet characters), so each one reaches the lookup. */
let counter = 0;
function wrongCode(): string {
  counter += 1;
  return `ZZZZ-${counter
    .toString(32)
    .toUpperCase()
    .replace(/[ILOU]/g, 'Z')
    .padStart(4, 'Z')
    .slice(-4)}`;
}

/** A wrong code typed on the pair page, alternately at the lookup and the decision form. */
function guess(t: ListeningApp, person: Person, code: string, headers: Record<string, string> = {}, i = 0): Promise<RawResponse> {
  return i % 2 === 0
    ? pairPost(t, person, '/pair', { user_code: code }, headers)
    : pairPost(t, person, '/pair/decide', { user_code: code, decision: 'approve' }, headers);
}

/** The 429 page without what differs per request (the request id). */
function page(response: RawResponse): string {
  return response.text.replaceAll(String(response.headers['x-request-id']), 'REQUEST-ID');
}

async function expectNothingApproved(t: ListeningApp, failures: number) {
  expect(await collection(t, 'pairings').countDocuments({ state: { $ne: 'pending' } })).toBe(0);
  expect(await collection(t, 'pairing_claims').countDocuments()).toBe(0);
  expect(await collection(t, 'audit').countDocuments({ action: 'pairing.confirmed', outcome: 'success' })).toBe(0);
  expect(await collection(t, 'audit').countDocuments({ action: 'pairing.confirmed', outcome: 'failure' })).toBe(failures);
}

async function expectTripped(t: ListeningApp, reason: string) {
  await eventually(async () => {
    const alerts = await collection(t, 'audit').find({ action: 'rate_limit.tripped' }).toArray();
    expect(alerts.map((alert) => (alert.details as { reason?: string }).reason)).toContain(reason);
  });
}

describe('P1 one address (TRUST_PROXY_HOPS=0, 5 failures an hour)', () => {
  let t: ListeningApp;

  it('P1 5 wrong codes → 400 each, the 6th → 429 with Retry-After; a valid code after that is 429 too, same page', async () => {
    t = await app({ PAIRING_CODE_FAILURES_PER_HOUR: '5', PAIRING_CODE_FAILURES_GLOBAL_PER_HOUR: '1000', TRUST_PROXY_HOPS: '0' });
    const alice = await signedInPerson(t, 'Alice');
    const { device, started } = await startPairing(t);

    for (let i = 0; i < 5; i++) {
      const response = await guess(t, alice, wrongCode(), {}, i);
      expect(response.status, `guess ${i + 1}`).toBe(400);
    }
    const limited = await guess(t, alice, wrongCode());
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    // The right code now: refused the same way, at both forms, with an identical page.
    const valid = await pairPost(t, alice, '/pair', { user_code: started.user_code });
    expect(valid.status).toBe(429);
    expect(page(valid)).toBe(page(limited));
    const approve = await pairPost(t, alice, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
    expect(approve.status).toBe(429);
    expect(page(approve)).toBe(page(limited));

    expect(await grantError(() => device.poll(started.device_code))).toBe('authorization_pending');
    await expectNothingApproved(t, 5);
    await expectTripped(t, 'pair-code-address');
  });

  it('P1 a spoofed X-Forwarded-For is ignored: another user "from another address" shares the spent address budget', async () => {
    const bob = await signedInPerson(t, 'Bob');
    for (const xff of ['198.51.100.7', '203.0.113.9, 198.51.100.8', '10.0.0.1']) {
      const response = await guess(t, bob, wrongCode(), { 'X-Forwarded-For': xff });
      expect(response.status, xff).toBe(429);
    }
    await expectNothingApproved(t, 5);
  });
});

describe('P1 many addresses behind a trusted proxy (TRUST_PROXY_HOPS=1, 5 failures an hour)', () => {
  let t: ListeningApp;
  let address = 0;
  const nextAddress = () => {
    address += 1;
    return `198.51.100.${address}`;
  };

  it('P1 one user rotating X-Forwarded-For still hits the per-user budget; valid code refused after it', async () => {
    t = await app({ PAIRING_CODE_FAILURES_PER_HOUR: '5', PAIRING_CODE_FAILURES_GLOBAL_PER_HOUR: '1000', TRUST_PROXY_HOPS: '1' });
    const mallory = await signedInPerson(t, 'Mallory');
    const { device, started } = await startPairing(t);
    for (let i = 0; i < 5; i++) {
      const response = await guess(t, mallory, wrongCode(), { 'X-Forwarded-For': nextAddress() }, i);
      expect(response.status, `guess ${i + 1}`).toBe(400);
    }
    for (let i = 0; i < 3; i++) expect((await guess(t, mallory, wrongCode(), { 'X-Forwarded-For': nextAddress() }, i)).status).toBe(429);
    const valid = await pairPost(
      t,
      mallory,
      '/pair/decide',
      { user_code: started.user_code, decision: 'approve' },
      { 'X-Forwarded-For': nextAddress() },
    );
    expect(valid.status).toBe(429);
    expect(await grantError(() => device.poll(started.device_code))).toBe('authorization_pending');
    await expectTripped(t, 'pair-code-user');
    await expectNothingApproved(t, 5);
  });

  it('P1 the address is the trusted hop: other people elsewhere are unaffected, people at the spent address are limited', async () => {
    // Carol, somewhere else: her wrong code is a plain 400, her right code works.
    const carol = await signedInPerson(t, 'Carol');
    const carolAddress = nextAddress();
    expect((await guess(t, carol, wrongCode(), { 'X-Forwarded-For': carolAddress })).status).toBe(400);
    const { started } = await startPairing(t);
    const lookup = await pairPost(t, carol, '/pair', { user_code: started.user_code }, { 'X-Forwarded-For': carolAddress });
    expect(lookup.status, lookup.text).toBe(200);

    // Dave spends the budget of one address; Erin at that same address is limited at once.
    const shared = nextAddress();
    const dave = await signedInPerson(t, 'Dave');
    const erin = await signedInPerson(t, 'Erin');
    for (let i = 0; i < 5; i++) expect((await guess(t, dave, wrongCode(), { 'X-Forwarded-For': shared }, i)).status).toBe(400);
    expect((await guess(t, erin, wrongCode(), { 'X-Forwarded-For': shared })).status).toBe(429);
    // …and the left-most (client-written) entry is not the key: prepending a fake one changes nothing.
    expect((await guess(t, erin, wrongCode(), { 'X-Forwarded-For': `192.0.2.77, ${shared}` })).status).toBe(429);
    await expectTripped(t, 'pair-code-address');
    await expectNothingApproved(t, 5 + 1 + 5);
  });
});

describe('P1 a global spray (TRUST_PROXY_HOPS=1, 5 per address/user, 8 globally)', () => {
  it('P1 four users from four addresses, 2 wrong codes each, spend the global budget: everyone is refused after, valid codes too', async () => {
    const t = await app({ PAIRING_CODE_FAILURES_PER_HOUR: '5', PAIRING_CODE_FAILURES_GLOBAL_PER_HOUR: '8', TRUST_PROXY_HOPS: '1' });
    const { device, started } = await startPairing(t);
    const people = await Promise.all(['A', 'B', 'C', 'D', 'E'].map((name) => signedInPerson(t, name)));
    let n = 0;
    for (const [index, person] of people.slice(0, 4).entries()) {
      for (let i = 0; i < 2; i++) {
        const response = await guess(t, person, wrongCode(), { 'X-Forwarded-For': `203.0.113.${index + 1}` }, n++);
        expect(response.status).toBe(400);
      }
    }
    const fresh = people[4] as Person;
    expect((await guess(t, fresh, wrongCode(), { 'X-Forwarded-For': '203.0.113.200' })).status).toBe(429);
    const valid = await pairPost(t, fresh, '/pair', { user_code: started.user_code }, { 'X-Forwarded-For': '203.0.113.201' });
    expect(valid.status).toBe(429);
    const decide = await pairPost(
      t,
      people[0] as Person,
      '/pair/decide',
      { user_code: started.user_code, decision: 'approve' },
      {
        'X-Forwarded-For': '203.0.113.1',
      },
    );
    expect(decide.status).toBe(429);
    expect(await grantError(() => device.poll(started.device_code))).toBe('authorization_pending');
    await expectTripped(t, 'pair-code-global');
    await expectNothingApproved(t, 8);
  });
});

describe('P1 a correct code costs nothing', () => {
  it('P1 right codes are refunded: more successful lookups than the budget still work', async () => {
    const t = await app({ PAIRING_CODE_FAILURES_PER_HOUR: '3', PAIRING_CODE_FAILURES_GLOBAL_PER_HOUR: '1000', TRUST_PROXY_HOPS: '0' });
    const alice = await signedInPerson(t, 'Alice');
    const { started } = await startPairing(t);
    for (let i = 0; i < 6; i++) {
      const response = await pairPost(t, alice, '/pair', { user_code: started.user_code });
      expect(response.status, `lookup ${i + 1}`).toBe(200);
    }
    // The budget is intact: 3 wrong codes are 400, the 4th 429.
    for (let i = 0; i < 3; i++) expect((await guess(t, alice, wrongCode(), {}, i)).status).toBe(400);
    expect((await guess(t, alice, wrongCode())).status).toBe(429);
  });
});
