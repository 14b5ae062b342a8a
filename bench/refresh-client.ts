/**
 * The refresh load generator's client side: a DPoP proof signed per request and a form POST over
 * a kept-alive connection. It shares the two cores with the server it measures, so it is written
 * for little CPU (docs/benchmarks.md, "The load generator"): jose's `SignJWT` signs through
 * WebCrypto, a thread-pool hop per proof, and `fetch` builds WHATWG streams per request; together
 * they took 0.6 ms of CPU per exchange, about as much as the server. Here a proof is the same
 * compact JWS (RFC 9449 section 4.2) signed with node:crypto, and the request goes through
 * node:http.
 */

import { KeyObject, randomBytes, sign } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { JWK } from 'jose';

export type RefreshClient = { privateKey: CryptoKey; jwk: JWK; refreshToken: string };

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs DPoP proofs for one client key; the protected header is the same on every proof. */
export function proofSigner(client: Pick<RefreshClient, 'privateKey' | 'jwk'>) {
  const key = KeyObject.from(client.privateKey);
  const header = encode({ alg: 'ES256', typ: 'dpop+jwt', jwk: client.jwk });
  return (htm: string, htu: string, nonce?: string): string => {
    const claims = {
      htm,
      htu,
      jti: randomBytes(16).toString('base64url'),
      ...(nonce ? { nonce } : {}),
      iat: Math.floor(Date.now() / 1000),
    };
    const input = `${header}.${encode(claims)}`;
    // ES256 in JWS is the raw r || s pair (RFC 7518 section 3.4), not DER.
    return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
}

/** Kept-alive connections, reused from request to request as `fetch`'s pool did; 16 clients in sequence need 16. */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs a form and reads the JSON answer; network errors reject. */
export function postForm(
  url: URL,
  headers: Record<string, string>,
  form: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Record<string, unknown> }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
          } catch {
            // A non-JSON answer counts as a failure through its missing refresh_token.
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
