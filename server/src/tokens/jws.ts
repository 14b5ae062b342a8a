import { createHmac, type KeyObject, sign, verify } from 'node:crypto';

/**
 * Compact JWS (RFC 7515) signatures with node:crypto, synchronously: minting our tokens (ES256
 * ring keys, or HS256 with SECRET_KEY) and checking DPoP proofs' ES256 signatures.
 *
 * jose signs and verifies through WebCrypto on every runtime; on Node each call queues a job and
 * clones its algorithm, which for ES256 cost more than the signature itself: a token request
 * signs one access token and checks one DPoP proof, and those two calls were the largest share of
 * its CPU (docs/benchmarks.md, issue 14). jose still does everything else — parsing, claims,
 * thumbprints — and still verifies our own tokens, so every token minted here passes jose's checks
 * in the tests.
 */
export type JwsKey = { alg: 'ES256'; key: KeyObject } | { alg: 'HS256'; key: Uint8Array };

/** P-256 signatures are r‖s, 32 bytes each (RFC 7518 §3.4). */
const ES256_SIGNATURE_BYTES = 64;

/** `header.payload.signature`, both objects serialised with JSON.stringify (canonical, see jwt.ts). */
export function signCompact(header: Record<string, unknown>, payload: Record<string, unknown>, { alg, key }: JwsKey): string {
  const input = `${base64url(header)}.${base64url(payload)}`;
  const signature =
    alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      : createHmac('sha256', key).update(input).digest();
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * Whether a compact JWS's ES256 signature is `key`'s over its first two parts (DPoP proofs; our
 * own tokens are verified by jose); false for anything malformed, never throws. Says nothing
 * about the header or claims: the caller checks those.
 */
export function signatureValid(compact: string, key: KeyObject): boolean {
  const end = compact.lastIndexOf('.');
  if (end <= 0 || compact.indexOf('.') === end) return false;
  const signature = Buffer.from(compact.slice(end + 1), 'base64url');
  if (signature.length !== ES256_SIGNATURE_BYTES) return false;
  try {
    return verify('sha256', Buffer.from(compact.slice(0, end)), { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

function base64url(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
