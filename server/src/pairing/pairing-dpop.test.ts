// docs/security-tests.md P11 and the authorization server's surface: DPoP proofs at the token endpoint
// (wrong key, htm, htu, stale or future iat, replayed jti, missing nonce, two headers), DPoP on
// resource calls (ath, key, Bearer downgrade), the RFC 8628 answers a client steers by
// (slow_down, access_denied), RFC 8414 metadata, unknown clients and scopes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createListeningApp, DeviceClient, grantError, type ListeningApp } from '../../test/device-client.js';
import { collection } from '../../test/http-checks.js';
import {
  athOf,
  claimsOf,
  fetchNonce,
  makeProof,
  newKey,
  type Person,
  pair,
  pairPost,
  pollFields,
  rawRequest,
  refreshFields,
  signedInPerson,
  sleep,
  tokenRequest,
  tokenWithProof,
} from '../../test/pairing-helpers.js';

let t: ListeningApp;
let alice: Person;

beforeAll(async () => {
  t = await createListeningApp({ DEVICE_POLL_INTERVAL_SECONDS: '1', PAIRING_STARTS_PER_MINUTE: '1000' });
  alice = await signedInPerson(t, 'Alice');
});
afterAll(() => t.close());

/** A pending pairing started by a fresh client (nothing approved yet). */
async function pending() {
  const device = await DeviceClient.create(t.origin);
  const started = await device.start();
  return { device, started };
}

/** Accepted proofs reach the grant: a pending code then answers authorization_pending or slow_down. */
const ACCEPTED = ['authorization_pending', 'slow_down'];

describe('P11 DPoP at the token endpoint', () => {
  it('P11 a correct hand-made proof is accepted (the control for every refusal below)', async () => {
    const { device, started } = await pending();
    const nonce = await fetchNonce(t);
    const response = await tokenWithProof(t, device.key, pollFields(started.device_code), nonce);
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ error: 'authorization_pending', error_description: expect.any(String) });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('P11 every token endpoint answer carries a DPoP-Nonce (routes.ts: "Every answer carries a fresh DPoP-Nonce")', async () => {
    const { device, started } = await pending();
    const nonce = await fetchNonce(t);
    const pendingAnswer = await tokenWithProof(t, device.key, pollFields(started.device_code), nonce);
    expect(pendingAnswer.json?.error).toBe('authorization_pending');
    expect(pendingAnswer.headers['dpop-nonce'], 'authorization_pending without DPoP-Nonce').toBe(nonce);
    const badGrant = await tokenWithProof(t, device.key, pollFields('unknown-device-code'), nonce);
    expect(badGrant.json?.error).toBe('invalid_grant');
    expect(badGrant.headers['dpop-nonce'], 'invalid_grant without DPoP-Nonce').toBe(nonce);
  });

  it('P11 a proof signed by another key than the bound one: invalid_grant for the device code and the refresh token', async () => {
    const { device, started } = await pending();
    const nonce = await fetchNonce(t);
    const other = await newKey();
    const stolen = await tokenWithProof(t, other, pollFields(started.device_code), nonce);
    expect(stolen.status).toBe(400);
    expect(stolen.json?.error).toBe('invalid_grant');

    // The same refusal once approved, and nothing issued to the thief.
    const approved = await pairPost(t, alice, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
    expect(approved.status).toBe(200);
    const again = await tokenWithProof(t, other, pollFields(started.device_code), nonce);
    expect(again.json?.error).toBe('invalid_grant');
    expect(await collection(t, 'refresh_tokens').countDocuments({ jkt: await device.thumbprint() })).toBe(0);

    // The rightful key still redeems it, and its refresh token is useless with the other key.
    const tokens = await tokenWithProof(t, device.key, pollFields(started.device_code), nonce);
    expect(tokens.status, tokens.text).toBe(200);
    const refreshToken = tokens.json?.refresh_token as string;
    const wrongKey = await tokenWithProof(t, other, refreshFields(refreshToken), nonce);
    expect(wrongKey.status).toBe(400);
    expect(wrongKey.json?.error).toBe('invalid_grant');
    const rightKey = await tokenWithProof(t, device.key, refreshFields(refreshToken), nonce);
    expect(rightKey.status, rightKey.text).toBe(200);
  });

  it.each([
    ['wrong htm (GET)', { htm: 'GET' }],
    ['wrong htm (lowercase post)', { htm: 'post' }],
    ['wrong htu (another path)', { htu: 'HTU' }],
    ['wrong htu (another origin)', { htu: 'http://evil.example/oauth/token' }],
    ['htu not a URL', { htu: 'oauth/token' }],
    ['stale iat (121 s old)', { iat: Math.floor(Date.now() / 1000) - 121 }],
    // Well past the 30 s allowance: the request may be sent seconds after the proof is made.
    ['future iat (45 s ahead)', { iat: Math.floor(Date.now() / 1000) + 45 }],
    ['iat not a number', { iat: 'now' }],
    ['short jti', { jti: 'abc' }],
  ] as const)('P11 %s → invalid_dpop_proof', async (_name, claims) => {
    const { device, started } = await pending();
    const nonce = await fetchNonce(t);
    const now = Math.floor(Date.now() / 1000);
    const patched: Record<string, unknown> = { ...claims };
    if (patched.htu === 'HTU') patched.htu = `${t.origin}/oauth/device_authorization`;
    // iat values are relative to "now" when the case table was built; rebuild them now.
    if (typeof patched.iat === 'number') patched.iat = patched.iat < now ? now - 121 : now + 45;
    const response = await tokenWithProof(t, device.key, pollFields(started.device_code), nonce, patched);
    expect(response.status, response.text).toBe(400);
    expect(response.json?.error).toBe('invalid_dpop_proof');
    // Nothing reached the grant: a correct proof right after still gets authorization_pending.
    const control = await tokenWithProof(t, device.key, pollFields(started.device_code), nonce);
    expect(control.json?.error).toBe('authorization_pending');
  });

  it('P11 htu spelled another way for the same URI (query, fragment, upper-case scheme and host) is accepted', async () => {
    const url = new URL(`${t.origin}/oauth/token`);
    for (const htu of [`${url.href}?x=1`, `${url.href}#frag`, `HTTP://${url.host.toUpperCase()}${url.pathname}`]) {
      const { device, started } = await pending();
      const response = await tokenWithProof(t, device.key, pollFields(started.device_code), await fetchNonce(t), { htu });
      expect(response.json?.error, htu).toBe('authorization_pending');
    }
  });

  it('P11 iat inside the window (100 s old, 20 s ahead) is accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const iat of [now - 100, now + 20]) {
      const { device, started } = await pending();
      const response = await tokenWithProof(t, device.key, pollFields(started.device_code), await fetchNonce(t), { iat });
      expect(response.json?.error).toBe('authorization_pending');
    }
  });

  it('P11 a stale proof by the server clock: the client proof made now is refused once the server is 121 s ahead', async () => {
    const { device, started } = await pending();
    const proofTime = Math.floor(Date.now() / 1000);
    t.clock.advance(121_000);
    try {
      const nonce = t.services.dpop.currentNonce(); // the nonce of the server's (advanced) window
      const response = await tokenWithProof(t, device.key, pollFields(started.device_code), nonce, { iat: proofTime });
      expect(response.json?.error).toBe('invalid_dpop_proof');
    } finally {
      t.clock.advance(-121_000);
    }
  });

  it('P11 a nonce is accepted through the next window (300 s) and refused in the one after', async () => {
    const nonce = await fetchNonce(t);
    for (const [aheadMs, expected] of [
      [300_000, 'authorization_pending'],
      [600_000, 'use_dpop_nonce'],
    ] as const) {
      const { device, started } = await pending();
      t.clock.advance(aheadMs);
      try {
        const iat = Math.floor(t.clock.now().getTime() / 1000);
        const response = await tokenWithProof(t, device.key, pollFields(started.device_code), nonce, { iat });
        expect(response.json?.error, `${aheadMs / 1000} s later`).toBe(expected);
      } finally {
        t.clock.advance(-aheadMs);
      }
    }
  });

  it('P11 a replayed proof (same jti) is refused the second time', async () => {
    const { device, started } = await pending();
    const nonce = await fetchNonce(t);
    const proof = await makeProof(device.key, { htm: 'POST', htu: `${t.origin}/oauth/token`, nonce });
    const first = await tokenRequest(t, pollFields(started.device_code), [proof]);
    expect(ACCEPTED).toContain(first.json?.error);
    const second = await tokenRequest(t, pollFields(started.device_code), [proof]);
    expect(second.status).toBe(400);
    expect(second.json?.error).toBe('invalid_dpop_proof');
    // Same jti in a new proof (new iat, so new signature) is a replay too.
    const sameJti = await makeProof(device.key, {
      htm: 'POST',
      htu: `${t.origin}/oauth/token`,
      nonce,
      jti: JSON.parse(Buffer.from(proof.split('.')[1] as string, 'base64url').toString()).jti,
      iat: Math.floor(Date.now() / 1000) + 1,
    });
    expect((await tokenRequest(t, pollFields(started.device_code), [sameJti])).json?.error).toBe('invalid_dpop_proof');
  });

  it('P11 a missing or made-up nonce → use_dpop_nonce with a DPoP-Nonce header; the retry with it works', async () => {
    const { device, started } = await pending();
    const noNonce = await makeProof(device.key, { htm: 'POST', htu: `${t.origin}/oauth/token` });
    const response = await tokenRequest(t, pollFields(started.device_code), [noNonce]);
    expect(response.status).toBe(400);
    expect(response.json?.error).toBe('use_dpop_nonce');
    const nonce = response.headers['dpop-nonce'];
    expect(typeof nonce).toBe('string');
    const madeUp = await tokenWithProof(t, device.key, pollFields(started.device_code), `${nonce}x`);
    expect(madeUp.json?.error).toBe('use_dpop_nonce');
    const retry = await tokenWithProof(t, device.key, pollFields(started.device_code), nonce as string);
    expect(retry.json?.error).toBe('authorization_pending');
  });

  it('P11 no DPoP header, two DPoP headers, or two proofs in one header are refused', async () => {
    const { device, started } = await pending();
    const nonce = await fetchNonce(t);
    const proof = () => makeProof(device.key, { htm: 'POST', htu: `${t.origin}/oauth/token`, nonce });
    const none = await tokenRequest(t, pollFields(started.device_code), []);
    expect(none.json?.error).toBe('invalid_dpop_proof');
    const two = await tokenRequest(t, pollFields(started.device_code), [await proof(), await proof()]);
    expect(two.status).toBe(400);
    expect(two.json?.error).toBe('invalid_dpop_proof');
    const joined = await tokenRequest(t, pollFields(started.device_code), [`${await proof()}, ${await proof()}`]);
    expect(joined.json?.error).toBe('invalid_dpop_proof');
  });

  it('P11 proof headers that are not acceptable: alg none, a private key in jwk, wrong typ, a tampered signature, garbage', async () => {
    const { device, started } = await pending();
    const nonce = await fetchNonce(t);
    const good = await makeProof(device.key, { htm: 'POST', htu: `${t.origin}/oauth/token`, nonce });
    const [h, p] = good.split('.') as [string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const enc = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const none = `${enc({ ...header, alg: 'none' })}.${p}.`;
    const typ = await makeProof(device.key, { htm: 'POST', htu: `${t.origin}/oauth/token`, nonce }, { typ: 'JWT' });
    const withD = `${enc({ ...header, jwk: { ...header.jwk, d: 'AAAA' } })}.${p}.${good.split('.')[2]}`;
    for (const bad of [none, typ, withD, `${good}x`, 'a.b', '']) {
      const response = await tokenRequest(t, pollFields(started.device_code), [bad]);
      expect(response.status, bad).toBe(400);
      expect(response.json?.error, bad).toBe('invalid_dpop_proof');
    }
  });

  it('P11 a validly signed proof that requires an extension (crit), or whose exp has passed, or whose nbf is ahead, is refused', async () => {
    const { device, started } = await pending();
    const nonce = await fetchNonce(t);
    const htu = `${t.origin}/oauth/token`;
    const now = Math.floor(Date.now() / 1000);
    const good = await makeProof(device.key, { htm: 'POST', htu, nonce });
    const [h, p] = good.split('.') as [string, string];
    const enc = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    // jose refuses to sign an unknown crit, so this one is signed by hand with the same key.
    const input = `${enc({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), crit: ['exp'] })}.${p}`;
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, device.key.privateKey, Buffer.from(input));
    const crit = `${input}.${Buffer.from(signature).toString('base64url')}`;
    const expired = await makeProof(device.key, { htm: 'POST', htu, nonce, exp: now - 1 });
    const notYet = await makeProof(device.key, { htm: 'POST', htu, nonce, nbf: now + 60 });
    for (const bad of [crit, expired, notYet]) {
      const response = await tokenRequest(t, pollFields(started.device_code), [bad]);
      expect(response.status, bad).toBe(400);
      expect(response.json?.error, bad).toBe('invalid_dpop_proof');
    }
  });
});

describe('P11 DPoP at the device authorization endpoint', () => {
  const start = (proofs: string[], clientId = 'gatehouse-cli') => {
    const headers: Record<string, string | string[]> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (proofs.length > 0) headers.DPoP = proofs.length === 1 ? (proofs[0] as string) : proofs;
    return rawRequest(t.origin, 'POST', '/oauth/device_authorization', headers, `client_id=${clientId}`);
  };
  const htu = () => `${t.origin}/oauth/device_authorization`;

  it('P11 a correct proof starts a pairing bound to that key (control)', async () => {
    const key = await newKey();
    const response = await start([await makeProof(key, { htm: 'POST', htu: htu() })]);
    expect(response.status, response.text).toBe(200);
    expect(response.json?.user_code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(response.headers['dpop-nonce']).toBeTruthy();
  });

  it('P11 no proof, two proofs, the token endpoint’s htu, wrong htm, stale iat, replayed proof → invalid_dpop_proof, nothing stored', async () => {
    const key = await newKey();
    const before = await collection(t, 'pairings').countDocuments();
    const now = Math.floor(Date.now() / 1000);
    const replayed = await makeProof(key, { htm: 'POST', htu: htu() });
    expect((await start([replayed])).status).toBe(200);
    const cases: [string, string[]][] = [
      ['no proof', []],
      ['two proofs', [await makeProof(key, { htm: 'POST', htu: htu() }), await makeProof(key, { htm: 'POST', htu: htu() })]],
      ['token endpoint htu', [await makeProof(key, { htm: 'POST', htu: `${t.origin}/oauth/token` })]],
      ['wrong htm', [await makeProof(key, { htm: 'GET', htu: htu() })]],
      ['stale iat', [await makeProof(key, { htm: 'POST', htu: htu(), iat: now - 121 })]],
      ['future iat', [await makeProof(key, { htm: 'POST', htu: htu(), iat: now + 45 })]],
      ['replayed proof', [replayed]],
    ];
    for (const [name, proofs] of cases) {
      const response = await start(proofs);
      expect(response.status, name).toBe(400);
      expect(response.json?.error, name).toBe('invalid_dpop_proof');
    }
    expect(await collection(t, 'pairings').countDocuments()).toBe(before + 1);
  });
});

describe('P11 DPoP on resource calls', () => {
  let paired: Awaited<ReturnType<typeof pair>>;
  beforeAll(async () => {
    paired = await pair(t, alice);
  });

  const resource = (headers: Record<string, string | string[]>) => rawRequest(t.origin, 'GET', '/api/v1/me', headers);
  const meProof = (key: CryptoKeyPair, claims: Record<string, unknown> = {}) =>
    makeProof(key, { htm: 'GET', htu: `${t.origin}/api/v1/me`, ath: athOf(paired.accessToken), ...claims });

  function expectDpopChallenge(response: Awaited<ReturnType<typeof resource>>, error: string) {
    expect(response.status, response.text).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^DPoP /);
    expect(response.headers['www-authenticate']).toContain(`error="${error}"`);
  }

  it('P11 the control: token + correct proof → 200', async () => {
    const response = await resource({ Authorization: `DPoP ${paired.accessToken}`, DPoP: await meProof(paired.device.key) });
    expect(response.status, response.text).toBe(200);
    expect(response.json?.id).toBe(alice.user._id);
  });

  it('P11 proof without ath, with a wrong ath, or with the ath of another token → 401 invalid_dpop_proof', async () => {
    const key = paired.device.key;
    const auth = { Authorization: `DPoP ${paired.accessToken}` };
    expectDpopChallenge(await resource({ ...auth, DPoP: await meProof(key, { ath: undefined }) }), 'invalid_dpop_proof');
    expectDpopChallenge(await resource({ ...auth, DPoP: await meProof(key, { ath: athOf('another token') }) }), 'invalid_dpop_proof');
    expectDpopChallenge(await resource({ ...auth, DPoP: await meProof(key, { ath: 'x'.repeat(43) }) }), 'invalid_dpop_proof');
  });

  it('P11 proof by another key, wrong htm/htu, no proof, replayed proof → 401 invalid_dpop_proof', async () => {
    const auth = { Authorization: `DPoP ${paired.accessToken}` };
    expectDpopChallenge(await resource({ ...auth, DPoP: await meProof(await newKey()) }), 'invalid_dpop_proof');
    expectDpopChallenge(await resource({ ...auth, DPoP: await meProof(paired.device.key, { htm: 'POST' }) }), 'invalid_dpop_proof');
    expectDpopChallenge(
      await resource({ ...auth, DPoP: await meProof(paired.device.key, { htu: `${t.origin}/api/v1/me/sessions` }) }),
      'invalid_dpop_proof',
    );
    expectDpopChallenge(await resource(auth), 'invalid_dpop_proof');
    const once = await meProof(paired.device.key);
    expect((await resource({ ...auth, DPoP: once })).status).toBe(200);
    expectDpopChallenge(await resource({ ...auth, DPoP: once }), 'invalid_dpop_proof');
  });

  it('P11 a DPoP-bound access token presented as Bearer → 401 (with or without a proof)', async () => {
    const bearer = await resource({ Authorization: `Bearer ${paired.accessToken}` });
    expect(bearer.status).toBe(401);
    expect(bearer.headers['www-authenticate']).toMatch(/^Bearer/);
    const withProof = await resource({ Authorization: `Bearer ${paired.accessToken}`, DPoP: await meProof(paired.device.key) });
    expect(withProof.status).toBe(401);
  });
});

describe('P11 RFC 8628 answers: slow_down and access_denied', () => {
  it('P11 polling faster than the interval → slow_down; after the interval → authorization_pending again', async () => {
    const { device, started } = await pending();
    expect(await grantError(() => device.poll(started.device_code))).toBe('authorization_pending');
    expect(await grantError(() => device.poll(started.device_code))).toBe('slow_down');
    await sleep(700);
    expect(await grantError(() => device.poll(started.device_code))).toBe('authorization_pending');
  });

  it('P11 a declined request → access_denied, and nothing is ever issued for it', async () => {
    const { device, started } = await pending();
    const declined = await pairPost(t, alice, '/pair/decide', { user_code: started.user_code, decision: 'decline' });
    expect(declined.status).toBe(200);
    expect(declined.text).toContain('data-outcome="declined"');
    expect(await grantError(() => device.poll(started.device_code))).toBe('access_denied');
    // Approving it afterwards is impossible: the decision was taken.
    const approve = await pairPost(t, alice, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
    expect(approve.status).toBe(400);
    expect(approve.text).toContain('data-outcome="invalid"');
    await sleep(700);
    expect(await grantError(() => device.poll(started.device_code))).toBe('access_denied');
    expect(await collection(t, 'refresh_tokens').countDocuments({ jkt: await device.thumbprint() })).toBe(0);
  });
});

describe('authorization server metadata, clients and scopes', () => {
  it('RFC 8414 metadata: issuer is the origin, endpoints under it, DPoP ES256, no secrets for public clients', async () => {
    const response = await rawRequest(t.origin, 'GET', '/.well-known/oauth-authorization-server');
    expect(response.status).toBe(200);
    const meta = response.json as Record<string, unknown>;
    expect(meta.issuer).toBe(t.origin);
    expect(meta.device_authorization_endpoint).toBe(`${t.origin}/oauth/device_authorization`);
    expect(meta.token_endpoint).toBe(`${t.origin}/oauth/token`);
    expect(meta.revocation_endpoint).toBe(`${t.origin}/oauth/revoke`);
    expect(meta.jwks_uri).toBe(`${t.origin}/.well-known/jwks.json`);
    expect(meta.dpop_signing_alg_values_supported).toEqual(['ES256']);
    expect(meta.grant_types_supported).toEqual(expect.arrayContaining(['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token']));
    expect(meta.grant_types_supported).not.toContain('password');
    expect(meta.grant_types_supported).not.toContain('implicit');
    expect(meta.token_endpoint_auth_methods_supported).toEqual(['none']);
    expect((meta.scopes_supported as string[]).some((scope) => scope.startsWith('admin:'))).toBe(false);
  });

  it('unknown client_id → invalid_client (401) at device authorization and at the token endpoint', async () => {
    const device = await DeviceClient.create(t.origin, 'not-registered');
    const start = await device.startRaw();
    expect(start.status).toBe(401);
    expect((await start.json()).error).toBe('invalid_client');

    const known = await pending();
    const nonce = await fetchNonce(t);
    const token = await tokenWithProof(t, known.device.key, pollFields(known.started.device_code, 'not-registered'), nonce);
    expect(token.status).toBe(401);
    expect(token.json?.error).toBe('invalid_client');
    // The right device code under another registered client is not redeemable either.
    const other = await tokenWithProof(t, known.device.key, pollFields(known.started.device_code, 'gatehouse-extension'), nonce);
    expect(other.status).toBe(400);
    expect(other.json?.error).toBe('invalid_grant');
  });

  it('a grant type we do not support → unsupported_grant_type (RFC 6749 §5.2), before any proof is looked at', async () => {
    for (const grant of ['client_credentials', 'password', 'authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
      const response = await tokenRequest(t, { grant_type: grant, client_id: 'gatehouse-cli' }, []);
      expect(response.status, grant).toBe(400);
      expect(response.json?.error, grant).toBe('unsupported_grant_type');
    }
  });

  it('a scope outside the client’s → invalid_scope, and no pairing is created', async () => {
    const before = await collection(t, 'pairings').countDocuments();
    const device = await DeviceClient.create(t.origin, 'gatehouse-cli');
    for (const scope of ['activity:read', 'admin:users', 'profile:read admin:users', 'openid']) {
      const response = await device.startRaw(scope);
      expect(response.status, scope).toBe(400);
      expect((await response.json()).error, scope).toBe('invalid_scope');
    }
    expect(await collection(t, 'pairings').countDocuments()).toBe(before);
    const narrow = await device.start('sessions:read');
    expect(narrow.user_code).toBeTruthy();
  });

  it('a refresh asking for a wider scope never widens the grant', async () => {
    const device = await DeviceClient.create(t.origin, 'gatehouse-cli');
    const started = await device.start('profile:read');
    await pairPost(t, alice, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
    const tokens = await device.poll(started.device_code);
    expect(tokens.scope).toBe('profile:read');
    const nonce = await fetchNonce(t);
    const wider = await tokenWithProof(
      t,
      device.key,
      { ...refreshFields(tokens.refresh_token as string), scope: 'profile:read sessions:revoke' },
      nonce,
    );
    // Either refused, or granted with the original scope only.
    if (wider.status === 200) {
      expect(wider.json?.scope).toBe('profile:read');
      const claims = claimsOf(String(wider.json?.access_token ?? ''));
      expect(String(claims.scope)).not.toContain('sessions:revoke');
    } else {
      expect(wider.json?.error).toBe('invalid_scope');
    }
  });
});
