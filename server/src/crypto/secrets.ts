import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in constant time (docs/security-tests.md N9). Both sides are hashed first so the
 * comparison takes the same time whatever their lengths, and a length difference leaks nothing.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

/** A random, url-safe identifier with `bytes` bytes of entropy. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 of a high-entropy secret, for storing and looking up codes and tokens by hash. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
