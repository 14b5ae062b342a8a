// docs/security-tests.md P2, P3, P5, P6, P9 and P10: the codes of a pairing. A user code or device code
// works once; expired codes get `expired_token` and the same refusal on the pair page; codes
// shaped as operators, arrays or huge strings are plain 4xx answers; what a person types is
// normalised once (case, spaces, hyphen, Crockford look-alikes); only keyed hashes of codes and
// refresh tokens reach the database or the logs; and every unusable user code — unknown,
// expired, used, malformed — gets the same status and page, after the same lookup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createListeningApp, grantError, type ListeningApp } from '../../test/device-client.js';
import { collection, strings } from '../../test/http-checks.js';
import {
  eventually,
  fetchNonce,
  form,
  makeProof,
  outcomeOf,
  type Person,
  pair,
  pairPost,
  pollFields,
  type RawResponse,
  rawRequest,
  refreshFields,
  signedInPerson,
  startPairing,
  tokenRequest,
  tokenWithProof,
} from '../../test/pairing-helpers.js';
import { CodeHasher, type PairingStore } from './index.js';

let t: ListeningApp;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  t = await createListeningApp({
    DEVICE_POLL_INTERVAL_SECONDS: '1',
    DEVICE_CODE_TTL_SECONDS: '60',
    PAIRING_STARTS_PER_MINUTE: '1000',
    PAIRING_CODE_FAILURES_PER_HOUR: '10000',
    PAIRING_CODE_FAILURES_GLOBAL_PER_HOUR: '100000',
  });
  alice = await signedInPerson(t, 'Alice');
  bob = await signedInPerson(t, 'Bob');
});
afterAll(() => t.close());

/** Moves the server clock for the duration of `run` only (other tests keep real time). */
async function withClockAhead<T>(ms: number, run: () => Promise<T>): Promise<T> {
  t.clock.advance(ms);
  try {
    return await run();
  } finally {
    t.clock.advance(-ms);
  }
}

/** The page without the parts that legitimately differ per request or session. */
function normalisedPage(response: RawResponse): string {
  return response.text.replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value=""');
}

describe('P2 codes work once', () => {
  it('P2 a user code reused after approval: the lookup and a second decision (same or another user) get the invalid outcome', async () => {
    const { started } = await startPairing(t);
    const first = await pairPost(t, alice, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
    expect(outcomeOf(first.text)).toBe('approved');
    for (const [who, decision] of [
      [alice, 'approve'],
      [bob, 'approve'],
      [bob, 'decline'],
    ] as const) {
      const again = await pairPost(t, who, '/pair/decide', { user_code: started.user_code, decision });
      expect(again.status).toBe(400);
      expect(outcomeOf(again.text)).toBe('invalid');
    }
    const lookup = await pairPost(t, bob, '/pair', { user_code: started.user_code });
    expect(lookup.status).toBe(400);
    expect(lookup.text).toContain('not valid, has expired or was already used');
    const record = await collection(t, 'pairings').findOne({ userId: alice.user._id, state: 'approved' });
    expect(record?.userId).toBe(alice.user._id);
  });

  it('P2 a device code reused after successful issuance → invalid_grant, audited, nothing more issued', async () => {
    const { device, started } = await startPairing(t);
    await pairPost(t, alice, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
    const tokens = await device.poll(started.device_code);
    expect(tokens.refresh_token).toBeTruthy();
    const jkt = await device.thumbprint();
    expect(await grantError(() => device.poll(started.device_code))).toBe('invalid_grant');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await grantError(() => device.poll(started.device_code))).toBe('invalid_grant');
    expect(await collection(t, 'refresh_tokens').countDocuments({ jkt })).toBe(1);
    expect(await collection(t, 'sessions').countDocuments({ jkt, kind: 'extension' })).toBe(1);
    const failures = await collection(t, 'audit').find({ action: 'token.exchange_failed' }).toArray();
    expect(failures.map((entry) => (entry.details as { reason?: string }).reason)).toContain('device_code_used');
    // The code typed again on the pair page is refused too.
    expect(outcomeOf((await pairPost(t, alice, '/pair/decide', { user_code: started.user_code, decision: 'approve' })).text)).toBe(
      'invalid',
    );
  });
});

describe('P3 expired codes', () => {
  it('P3 a pending device code past DEVICE_CODE_TTL_SECONDS → expired_token; its user code is refused on the pair page', async () => {
    const { device, started } = await startPairing(t);
    expect(started.expires_in).toBe(60);
    await withClockAhead(61_000, async () => {
      // The client's proofs carry real time: 61 s old is still inside the 120 s window.
      expect(await grantError(() => device.poll(started.device_code))).toBe('expired_token');
      const lookup = await pairPost(t, alice, '/pair', { user_code: started.user_code });
      expect(lookup.status).toBe(400);
      const decide = await pairPost(t, alice, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
      expect(decide.status).toBe(400);
      expect(outcomeOf(decide.text)).toBe('invalid');
    });
    expect(
      await collection(t, 'pairings').countDocuments({ state: 'approved', userId: alice.user._id, expiresAt: { $lt: new Date() } }),
    ).toBe(0);
  });

  it('P3 a code approved in time but redeemed after expiry → expired_token, no tokens', async () => {
    const { device, started } = await startPairing(t);
    await pairPost(t, alice, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
    await withClockAhead(61_000, async () => {
      expect(await grantError(() => device.poll(started.device_code))).toBe('expired_token');
    });
    expect(await collection(t, 'refresh_tokens').countDocuments({ jkt: await device.thumbprint() })).toBe(0);
  });

  it('P3 one second before expiry the code still works (the control)', async () => {
    const { device, started } = await startPairing(t);
    await withClockAhead(58_000, async () => {
      const decide = await pairPost(t, alice, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
      expect(outcomeOf(decide.text)).toBe('approved');
      expect((await device.poll(started.device_code)).refresh_token).toBeTruthy();
    });
  });
});

describe('P5 codes as operators, arrays or over-long strings', () => {
  const OPERATORS = ['{"$ne":null}', '{"$gt":""}', '{"$regex":".*"}', '[object Object]', 'null', 'true', '$where', '.*'];

  it('P5 on the pair page: operator-shaped codes are just wrong codes (400), nothing matched', async () => {
    await startPairing(t); // a pending request an operator would match
    for (const code of OPERATORS) {
      const lookup = await pairPost(t, alice, '/pair', { user_code: code });
      expect(lookup.status, code).toBe(400);
      expect(lookup.text).toContain('not valid, has expired or was already used');
      const decide = await pairPost(t, alice, '/pair/decide', { user_code: code, decision: 'approve' });
      expect(decide.status, code).toBe(400);
      expect(outcomeOf(decide.text)).toBe('invalid');
    }
  });

  it('P5 on the pair page: duplicated, bracketed, dotted and over-long parameters → 400 error pages, never 5xx', async () => {
    const { started } = await startPairing(t);
    const code = started.user_code;
    const cases: [string, string, string][] = [
      ['user_code twice', form({ user_code: [code, 'ZZZZ-ZZZZ'], csrf: alice.csrf }), 'A parameter was given more than once.'],
      ['user_code twice, same value', form({ user_code: [code, code], csrf: alice.csrf }), 'A parameter was given more than once.'],
      ['user_code[]', form({ 'user_code[]': code, csrf: alice.csrf }), 'The request is not valid.'],
      ['user_code[$ne]', form({ 'user_code[$ne]': 'x', csrf: alice.csrf }), 'The request is not valid.'],
      ['user_code.$ne', form({ 'user_code.$ne': 'x', csrf: alice.csrf }), 'The request is not valid.'],
      ['10k characters', form({ user_code: 'A'.repeat(10_000), csrf: alice.csrf }), 'The request is not valid.'],
      ['33 characters', form({ user_code: `${code}${' '.repeat(24)}`, csrf: alice.csrf }), 'The request is not valid.'],
    ];
    for (const path of ['/pair', '/pair/decide'] as const) {
      for (const [name, body, message] of cases) {
        const withDecision = path === '/pair/decide' ? `${body}&decision=approve` : body;
        const response = await pairPost(t, alice, path, withDecision);
        expect(response.status, `${path} ${name}`).toBe(400);
        expect(response.headers['content-type']).toMatch(/^text\/html/);
        expect(response.text, `${path} ${name}`).toContain(message);
        expect(response.text).not.toMatch(/Mongo|ZodError|TypeError|node_modules/);
      }
    }
    expect(await collection(t, 'pairings').countDocuments({ state: { $ne: 'pending' }, userId: { $ne: alice.user._id } })).toBe(0);
    // The genuine code still works afterwards.
    expect((await pairPost(t, alice, '/pair', { user_code: code })).status).toBe(200);
  });

  it('P5 at /oauth/token: device_code / refresh_token as operators, arrays, duplicates or 10k strings → RFC 6749 JSON errors', async () => {
    const { device, started } = await startPairing(t);
    const nonce = await fetchNonce(t);
    const expectOAuthError = (response: RawResponse, status: number, error: string, what: string) => {
      expect(response.status, `${what}: ${response.text}`).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json?.error, what).toBe(error);
      expect(Object.keys(response.json ?? {}).sort()).toEqual(['error', 'error_description']);
      expect(response.text).not.toMatch(/Mongo|ZodError|TypeError|node_modules/);
    };
    // Well-formed requests whose secret is operator-shaped: looked up as opaque strings, unknown.
    for (const value of OPERATORS) {
      expectOAuthError(await tokenWithProof(t, device.key, pollFields(value), nonce), 400, 'invalid_grant', `device_code ${value}`);
      expectOAuthError(await tokenWithProof(t, device.key, refreshFields(value), nonce), 400, 'invalid_grant', `refresh_token ${value}`);
    }
    const device_code = started.device_code;
    const grant = 'urn:ietf:params:oauth:grant-type:device_code';
    const shapes: [string, string][] = [
      ['device_code twice', form({ grant_type: grant, device_code: [device_code, device_code], client_id: 'gatehouse-cli' })],
      ['device_code[]', form({ grant_type: grant, 'device_code[]': device_code, client_id: 'gatehouse-cli' })],
      ['device_code[$ne]', form({ grant_type: grant, 'device_code[$ne]': '', client_id: 'gatehouse-cli' })],
      ['device_code 10k', form({ grant_type: grant, device_code: 'a'.repeat(10_000), client_id: 'gatehouse-cli' })],
      ['device_code empty', form({ grant_type: grant, device_code: '', client_id: 'gatehouse-cli' })],
      ['refresh_token twice', form({ grant_type: 'refresh_token', refresh_token: ['a', 'b'], client_id: 'gatehouse-cli' })],
      ['refresh_token[$gt]', form({ grant_type: 'refresh_token', 'refresh_token[$gt]': '', client_id: 'gatehouse-cli' })],
      ['refresh_token 10k', form({ grant_type: 'refresh_token', refresh_token: 'r'.repeat(10_000), client_id: 'gatehouse-cli' })],
      ['grant_type twice', form({ grant_type: [grant, 'refresh_token'], device_code, client_id: 'gatehouse-cli' })],
      ['client_id operator', form({ grant_type: grant, device_code, client_id: '{"$ne":null}' })],
      ['client_id twice', form({ grant_type: grant, device_code, client_id: ['gatehouse-cli', 'gatehouse-extension'] })],
    ];
    for (const [name, body] of shapes) {
      const proof = await makeProof(device.key, { htm: 'POST', htu: `${t.origin}/oauth/token`, nonce });
      expectOAuthError(await tokenRequest(t, body, [proof]), 400, 'invalid_request', name);
    }
    // JSON instead of a form is refused as well (RFC 6749 §3.2: form-encoded).
    const json = await rawRequest(
      t.origin,
      'POST',
      '/oauth/token',
      { 'Content-Type': 'application/json' },
      JSON.stringify({ device_code: { $ne: null } }),
    );
    expect(json.status).toBeGreaterThanOrEqual(400);
    expect(json.status).toBeLessThan(500);
    expect(json.json?.error).toBe('invalid_request');
    // Nothing was issued and the genuine code is still just pending.
    expect(await grantError(() => device.poll(started.device_code))).toBe('authorization_pending');
  });
});

describe('P6 typed codes are normalised once', () => {
  it('P6 case, spaces, no hyphen, O for 0, I and L for 1 all find the same pending request; U does not', async () => {
    const { device, started } = await startPairing(t);
    // Give the pending request a known code with 0s and 1s (keyed hash, as the server stores it).
    const hasher = new CodeHasher(t.config.masterKey);
    const known = 'A0B1C0D1';
    const updated = await collection(t, 'pairings').updateOne(
      { userCodeHash: hasher.hash('user', started.user_code.replace('-', '')) },
      { $set: { userCodeHash: hasher.hash('user', known) } },
    );
    expect(updated.modifiedCount).toBe(1);

    for (const typed of [
      'A0B1-C0D1',
      'a0b1-c0d1',
      'A0B1 C0D1',
      'A0B1C0D1',
      ' a0b1c0d1 ',
      'AOBI-COD1',
      'aobl-codl',
      'A0B1\u00A0C0D1',
      'A-0-B-1-C-0-D-1',
    ]) {
      const lookup = await pairPost(t, alice, '/pair', { user_code: typed });
      expect(lookup.status, typed).toBe(200);
      expect(lookup.text, typed).toContain('A0B1-C0D1'); // shown in canonical form
    }
    for (const typed of ['A0B1-C0DU', 'U0B1-C0D1', 'A0B1-C0D', 'A0B1-C0D11', 'A0B1_C0D1', 'A0B1.C0D1', 'Ａ0B1-C0D1']) {
      const lookup = await pairPost(t, alice, '/pair', { user_code: typed });
      expect(lookup.status, typed).toBe(400);
    }
    // Decided with a look-alike spelling, it is the same request the device is polling.
    const decide = await pairPost(t, alice, '/pair/decide', { user_code: 'aobi cod1', decision: 'approve' });
    expect(outcomeOf(decide.text)).toBe('approved');
    expect((await device.poll(started.device_code)).refresh_token).toBeTruthy();
  });

  it('P6 the verification_uri_complete link prefills the canonical code', async () => {
    const { started } = await startPairing(t);
    const lower = started.user_code.toLowerCase().replace('-', ' ');
    const page = await rawRequest(t.origin, 'GET', `/pair?code=${encodeURIComponent(lower)}`, { Cookie: alice.cookie });
    expect(page.status).toBe(200);
    expect(page.text).toContain(`value="${started.user_code}"`);
  });
});

describe('P9 only hashes are stored', () => {
  it('P9 after a pairing and two refreshes, no collection and no log line holds a code, refresh token or access token', async () => {
    const carol = await signedInPerson(t, 'Carol');
    const paired = await pair(t, carol);
    const secrets = new Map<string, string>([
      ['device code', paired.started.device_code],
      ['user code', paired.started.user_code],
      ['user code without hyphen', paired.started.user_code.replace('-', '')],
      ['refresh token 1', paired.refreshToken],
      ['access token 1', paired.accessToken],
    ]);
    const second = await paired.device.refresh();
    secrets.set('refresh token 2', second.refresh_token as string);
    secrets.set('access token 2', second.access_token);
    const third = await paired.device.refresh();
    secrets.set('refresh token 3', third.refresh_token as string);
    secrets.set('access token 3', third.access_token);
    // A failed replay writes audit entries too: they must not carry the token either.
    expect(await grantError(() => paired.device.refresh(paired.refreshToken))).toBe('invalid_grant');
    await eventually(async () => expect(await collection(t, 'audit').countDocuments({ action: 'pairing.revoked' })).toBeGreaterThan(0));

    const names = (await t.db.listCollections().toArray()).map((info) => info.name);
    for (const required of ['pairings', 'refresh_tokens', 'pairing_claims', 'sessions', 'audit']) expect(names).toContain(required);
    let documents = 0;
    for (const name of names) {
      for (const doc of await collection(t, name).find({}).toArray()) {
        documents += 1;
        const values = [...strings(doc), JSON.stringify(doc)];
        for (const [what, secret] of secrets) {
          expect(
            values.some((value) => value.includes(secret)),
            `${what} found in ${name}`,
          ).toBe(false);
        }
      }
    }
    expect(documents).toBeGreaterThan(10);
    expect(await collection(t, 'refresh_tokens').countDocuments({ sessionId: paired.sessionId })).toBe(3);

    const logs = t.logLines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const [what, secret] of secrets) expect(logs.includes(secret), `${what} found in the logs`).toBe(false);
  });
});

describe('P10 every unusable user code gets the same answer', () => {
  it('P10 unknown, expired, used and malformed codes: same status and page at /pair and /pair/decide, after one lookup each', async () => {
    // used: approved already; expired: still pending, 61 s past its expiry on the server clock.
    const used = await startPairing(t);
    expect(outcomeOf((await pairPost(t, alice, '/pair/decide', { user_code: used.started.user_code, decision: 'approve' })).text)).toBe(
      'approved',
    );
    const expired = await startPairing(t);
    const kinds = {
      unknown: 'ZZZZ-ZZZZ',
      expired: expired.started.user_code,
      used: used.started.user_code,
      malformed: 'NOT A CODE!',
      'wrong length': 'ABCD-234',
      'operator-shaped': '{"$ne":null}',
    };

    // Count the lookups each request makes (a spy around the real store method).
    const store = (t.services.pairing as unknown as { store: PairingStore }).store;
    const original = store.byUserCode.bind(store);
    let lookups = 0;
    store.byUserCode = (hash: string) => {
      lookups += 1;
      return original(hash);
    };
    try {
      await withClockAhead(61_000, async () => {
        const pages = new Map<string, { lookup: RawResponse; decide: RawResponse; lookups: number }>();
        for (const [kind, code] of Object.entries(kinds)) {
          const before = lookups;
          const lookup = await pairPost(t, alice, '/pair', { user_code: code });
          const decide = await pairPost(t, alice, '/pair/decide', { user_code: code, decision: 'approve' });
          pages.set(kind, { lookup, decide, lookups: lookups - before });
        }
        const reference = pages.get('unknown');
        if (!reference) throw new Error('no reference');
        expect(reference.lookup.status).toBe(400);
        expect(reference.decide.status).toBe(400);
        for (const [kind, { lookup, decide, lookups: count }] of pages) {
          expect(lookup.status, kind).toBe(reference.lookup.status);
          expect(normalisedPage(lookup), kind).toBe(normalisedPage(reference.lookup));
          expect(decide.status, kind).toBe(reference.decide.status);
          expect(normalisedPage(decide), kind).toBe(normalisedPage(reference.decide));
          expect(lookup.headers['content-type'], kind).toBe(reference.lookup.headers['content-type']);
          // The same work: one indexed read for the lookup form and one for the decision form.
          expect(count, `${kind}: lookups`).toBe(2);
        }
      });
    } finally {
      store.byUserCode = original;
    }
  });
});

describe('C1–C6 on the pair page: forms are same-origin and CSRF-bound (nobody approves a device for you)', () => {
  it('C1–C6 cross-site, Origin null, no Origin, missing/foreign CSRF token: refused, nothing approved, no budget spent', async () => {
    const { device, started } = await startPairing(t);
    const failuresBefore = await collection(t, 'audit').countDocuments({ action: 'pairing.confirmed', outcome: 'failure' });
    const body = (csrf: string | null) => form({ user_code: started.user_code, decision: 'approve', ...(csrf === null ? {} : { csrf }) });
    const base = { Cookie: alice.cookie, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' };
    const attempts: [string, Record<string, string>, string][] = [
      ['cross-site Origin', { ...base, Origin: 'http://evil.example' }, body(alice.csrf)],
      ['Origin null', { ...base, Origin: 'null' }, body(alice.csrf)],
      ['no Origin, no Referer', base, body(alice.csrf)],
      ['look-alike Origin', { ...base, Origin: `${t.origin}.evil.example` }, body(alice.csrf)],
      ['no csrf field', { ...base, Origin: t.origin }, body(null)],
      ['wrong csrf', { ...base, Origin: t.origin }, body('x'.repeat(40))],
      ["another session's csrf", { ...base, Origin: t.origin }, body(bob.csrf)],
      ['text/plain', { ...base, Origin: 'http://evil.example', 'Content-Type': 'text/plain' }, body(alice.csrf)],
    ];
    for (const [name, headers, payload] of attempts) {
      const response = await rawRequest(t.origin, 'POST', '/pair/decide', headers, payload);
      expect(response.status, name).toBeGreaterThanOrEqual(400);
      expect(response.status, name).toBeLessThan(500);
      expect(outcomeOf(response.text), name).toBeNull();
    }
    expect(await grantError(() => device.poll(started.device_code))).toBe('authorization_pending');
    // Refused before the code was looked at: no failure recorded against Alice's budget.
    expect(await collection(t, 'audit').countDocuments({ action: 'pairing.confirmed', outcome: 'failure' })).toBe(failuresBefore);
    // Still approvable by Alice herself, properly.
    const ok = await pairPost(t, alice, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
    expect(outcomeOf(ok.text)).toBe('approved');
  });

  it('C10 without a session the pair page does not decide anything', async () => {
    const { device, started } = await startPairing(t);
    const response = await rawRequest(
      t.origin,
      'POST',
      '/pair/decide',
      { Origin: t.origin, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' },
      form({ user_code: started.user_code, decision: 'approve', csrf: alice.csrf }),
    );
    expect([401, 403]).toContain(response.status);
    expect(await grantError(() => device.poll(started.device_code))).toBe('authorization_pending');
  });
});
