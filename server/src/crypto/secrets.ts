import { hash, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in constant time (docs/security-tests.md N9). Both sides are hashed first so the
 * comparison takes the same time whatever their lengths, and a length difference leaks nothing.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * SHA-256 as bytes, through a latin1 string: Buffer.from takes small buffers from Node's shared
 * pool, while asking crypto.hash for a Buffer allocates a new ArrayBuffer per call, which cost 7 µs
 * more per hash inside the loaded server (docs/benchmarks.md, "What each change bought").
 */
function digest(value: string | Buffer): Buffer {
  return Buffer.from(hash('sha256', value, 'binary'), 'latin1');
}

/** A secret known in advance, kept as its SHA-256 so that a check hashes only the presented value. */
export type SecretDigest = Buffer & { readonly secretDigest: true };

export function secretDigest(secret: string | Buffer): SecretDigest {
  return digest(secret) as SecretDigest;
}

/**
 * Whether `presented` is one of the digested secrets, as safeEqual compares: in constant time, and
 * against every digest whichever matches, so timing tells neither whether nor which. On a hot path
 * this is one hash per check instead of two per candidate.
 */
export function matchesDigest(presented: string | Buffer, digests: readonly SecretDigest[]): boolean {
  const presentedDigest = digest(presented);
  let found = false;
  for (const candidate of digests) found = timingSafeEqual(presentedDigest, candidate) || found;
  return found;
}

/** A random, url-safe identifier with `bytes` bytes of entropy. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 of a high-entropy secret, for storing and looking up codes and tokens by hash. */
export function sha256(value: string): string {
  // crypto.hash: the one-shot form, half the cost of createHash().update().digest() on a hot path.
  return hash('sha256', value, 'base64url');
}

const REQUEST_ID_BYTES = 12;
const requestIdPool = Buffer.alloc(REQUEST_ID_BYTES * 1024);
let requestIdOffset = requestIdPool.length;

/**
 * A request id: 12 random bytes, url-safe (16 characters). Not a secret, only unique and not
 * guessable in advance; drawn from a pool filled 12 KiB at a time, because one getrandom call
 * per request cost ~4 µs, a tenth of the cheapest request (docs/benchmarks.md).
 */
export function requestId(): string {
  if (requestIdOffset === requestIdPool.length) {
    randomFillSync(requestIdPool);
    requestIdOffset = 0;
  }
  const id = requestIdPool.toString('base64url', requestIdOffset, requestIdOffset + REQUEST_ID_BYTES);
  requestIdOffset += REQUEST_ID_BYTES;
  return id;
}
