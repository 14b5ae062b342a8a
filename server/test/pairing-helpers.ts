// Helpers for the pairing security suites (docs/security-tests.md P1–P11): raw HTTP with full control
// of headers (two DPoP headers, X-Forwarded-For), hand-made DPoP proofs with any claims signed
// by a client's own (non-extractable) key, signed-in people on the pair page, and a whole
// pairing in one call. Everything goes over real HTTP to a listening app.
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { DEVICE_CODE_GRANT } from '@gatehouse/shared';
import { exportJWK, SignJWT } from 'jose';
import type { User } from '../src/users/index.js';
import { type DeviceAuthorization, DeviceClient, type ListeningApp } from './device-client.js';
import { createUser, startBrowserSession } from './harness.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The parsed JSON body, or null. */
  json: Record<string, unknown> | null;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP request; a header given as an array is sent as that many header lines. */
export function rawRequest(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string | string[]> = {},
  body?: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, origin);
    const req = http.request(url, { method, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> | null = null;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    for (const [name, value] of Object.entries(headers)) req.setHeader(name, value);
    if (body !== undefined) {
      req.setHeader('Content-Length', Buffer.byteLength(body));
      req.end(body);
    } else req.end();
  });
}

/** A form body; an array value repeats the parameter. */
export function form(fields: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) for (const one of [value].flat()) params.append(key, one);
  return params.toString();
}

/** A fresh non-extractable P-256 key pair, as a careful client makes one. */
export function newKey(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

export interface ProofClaims {
  htm: string;
  htu: string;
  iat?: number;
  jti?: string;
  nonce?: string;
  ath?: string;
  [claim: string]: unknown;
}

/** A DPoP proof (RFC 9449 §4.2) with whatever claims the test wants, signed with `key`. */
export async function makeProof(key: CryptoKeyPair, claims: ProofClaims, header: Record<string, unknown> = {}): Promise<string> {
  const { iat, jti, ...rest } = claims;
  const jwk = await exportJWK(key.publicKey);
  return new SignJWT({ ...rest, jti: jti ?? randomBytes(24).toString('base64url'), iat: iat ?? Math.floor(Date.now() / 1000) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, ...header })
    .sign(key.privateKey);
}

/** The `ath` claim for an access token. */
export function athOf(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

/** A current server nonce, from the `DPoP-Nonce` header of a `use_dpop_nonce` answer (a proof without one). */
export async function fetchNonce(t: ListeningApp): Promise<string> {
  nonceKey ??= await newKey();
  const proof = await makeProof(nonceKey, { htm: 'POST', htu: `${t.origin}/oauth/token` });
  const probe = await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'gatehouse-cli' }, [proof]);
  const nonce = probe.headers['dpop-nonce'];
  if (probe.json?.error !== 'use_dpop_nonce' || typeof nonce !== 'string') throw new Error(`no DPoP-Nonce: ${probe.status} ${probe.text}`);
  return nonce;
}
let nonceKey: CryptoKeyPair | undefined;

/** POST /oauth/token with the given form fields and DPoP header values (each its own header line). */
export function tokenRequest(t: ListeningApp, fields: Record<string, string | string[]> | string, proofs: string[]): Promise<RawResponse> {
  const headers: Record<string, string | string[]> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (proofs.length > 0) headers.DPoP = proofs.length === 1 ? (proofs[0] as string) : proofs;
  return rawRequest(t.origin, 'POST', '/oauth/token', headers, typeof fields === 'string' ? fields : form(fields));
}

/** A token request with a correct fresh proof from `key` (nonce included): only the claims under test vary. */
export async function tokenWithProof(
  t: ListeningApp,
  key: CryptoKeyPair,
  fields: Record<string, string | string[]> | string,
  nonce: string,
  claims: Partial<ProofClaims> = {},
): Promise<RawResponse> {
  const proof = await makeProof(key, { htm: 'POST', htu: `${t.origin}/oauth/token`, nonce, ...claims });
  return tokenRequest(t, fields, [proof]);
}

export const pollFields = (deviceCode: string, clientId = 'gatehouse-cli') => ({
  grant_type: DEVICE_CODE_GRANT,
  device_code: deviceCode,
  client_id: clientId,
});
export const refreshFields = (refreshToken: string, clientId = 'gatehouse-cli') => ({
  grant_type: 'refresh_token',
  refresh_token: refreshToken,
  client_id: clientId,
});

/** A signed-in person: a user with a browser session and its CSRF token. */
export interface Person {
  user: User;
  cookie: string;
  sessionId: string;
  csrf: string;
}

export async function signedInPerson(t: ListeningApp, name = 'Test User'): Promise<Person> {
  const user = await createUser(t, { name });
  const { cookie, sessionId } = await startBrowserSession(t, user);
  return { user, cookie, sessionId, csrf: t.services.csrf.forSession(sessionId) };
}

/**
 * A form POST to the pair page as `person`'s browser (cookie, same Origin, CSRF field unless
 * the fields carry their own). `extraHeaders` e.g. X-Forwarded-For.
 */
export function pairPost(
  t: ListeningApp,
  person: Person,
  path: '/pair' | '/pair/decide',
  fields: Record<string, string | string[]> | string,
  extraHeaders: Record<string, string> = {},
): Promise<RawResponse> {
  const body = typeof fields === 'string' ? fields : form({ csrf: person.csrf, ...fields });
  return rawRequest(
    t.origin,
    'POST',
    path,
    { Cookie: person.cookie, Origin: t.origin, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html', ...extraHeaders },
    body,
  );
}

/** The outcome the decide page states (`approved`, `declined`, `invalid`), or null. */
export function outcomeOf(html: string): string | null {
  return /data-outcome="([a-z]+)"/.exec(html)?.[1] ?? null;
}

/** The claims of a JWT, unverified. */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `check` until it stops throwing (for best-effort writes that are not awaited). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

export interface Paired {
  device: DeviceClient;
  started: DeviceAuthorization;
  /** The paired session (from the access token's `sid`). */
  sessionId: string;
  accessToken: string;
  refreshToken: string;
}

/** A whole pairing: start, approve on the pair page as `person`, one poll that issues the tokens. */
export async function pair(t: ListeningApp, person: Person, device?: DeviceClient): Promise<Paired> {
  const client = device ?? (await DeviceClient.create(t.origin));
  const started = await client.start();
  const lookup = await pairPost(t, person, '/pair', { user_code: started.user_code });
  if (lookup.status !== 200) throw new Error(`pair lookup ${lookup.status}`);
  const decided = await pairPost(t, person, '/pair/decide', { user_code: started.user_code, decision: 'approve' });
  if (outcomeOf(decided.text) !== 'approved') throw new Error(`pair decide ${decided.status}`);
  await client.poll(started.device_code);
  const accessToken = client.accessToken as string;
  return {
    device: client,
    started,
    sessionId: claimsOf(accessToken).sid as string,
    accessToken,
    refreshToken: client.refreshToken as string,
  };
}

/** A fresh device (its own DPoP key) that has started pairing: RFC 8628 device authorization. */
export async function startPairing(t: { origin: string }): Promise<{ device: DeviceClient; started: DeviceAuthorization }> {
  const device = await DeviceClient.create(t.origin);
  return { device, started: await device.start() };
}
