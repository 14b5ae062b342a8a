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

/**
 * Secrets known in advance (a resource server's usual Basic header, the DPoP nonces of the current
 * windows), each presented value checked against all of them at once, so timing tells neither
 * whether nor which one matched (docs/security-tests.md N9). The value is copied into a buffer as
 * wide as the longest secret and compared over that whole width with each secret, zero-padded to
 * it: the time depends on the presented value's length and on that width, never on a secret's
 * bytes. No hash per check: they were about 3 % of the bearer check's samples (docs/benchmarks.md,
 * "What each change bought").
 */
export class KnownSecrets {
  /** Each secret zero-padded to the width, with its own length. */
  private readonly secrets: { padded: Buffer; length: number }[];
  private readonly scratch: Buffer;

  constructor(secrets: readonly string[]) {
    const bytes = secrets.map((secret) => Buffer.from(secret, 'utf8'));
    const width = Math.max(1, ...bytes.map((secret) => secret.length));
    this.secrets = bytes.map((secret) => ({ padded: Buffer.concat([secret], width), length: secret.length }));
    this.scratch = Buffer.alloc(width);
  }

  has(presented: string): boolean {
    // `write` stops at the width, on a whole character: a longer value is cut and is none of them.
    const written = this.scratch.write(presented, 'utf8');
    const whole = written === Buffer.byteLength(presented, 'utf8');
    let found = false;
    for (const { padded, length } of this.secrets) found = (timingSafeEqual(this.scratch, padded) && written === length) || found;
    // Zeros again for the next check, and no copy of the presented value is left behind.
    this.scratch.fill(0);
    return found && whole;
  }
}

const MAX_POOLED_BYTES = 64;
/** Its own memory, not a slice of Node's shared buffer pool that other code writes into. */
const pool = Buffer.allocUnsafeSlow(4096);
let poolOffset = pool.length;

/**
 * A random, url-safe identifier or secret with `bytes` bytes of entropy (refresh tokens, device
 * codes, token ids, record ids). Drawn from a pool that one getrandom call fills 4 KiB at a time,
 * as nanoid does: one call per secret cost ~6 µs inside the loaded server, two on every refresh
 * (docs/benchmarks.md). Each byte is handed out once and zeroed in the pool as it goes, so the
 * pool holds no copy of a secret already issued.
 */
export function randomId(bytes = 16): string {
  if (bytes > MAX_POOLED_BYTES) return randomBytes(bytes).toString('base64url');
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const id = pool.toString('base64url', poolOffset, poolOffset + bytes);
  pool.fill(0, poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return id;
}

/** SHA-256 of a high-entropy secret, for storing and looking up codes and tokens by hash. */
export function sha256(value: string): string {
  // crypto.hash: the one-shot form, half the cost of createHash().update().digest() on a hot path.
  return hash('sha256', value, 'base64url');
}

/**
 * A request id: 12 random bytes, url-safe (16 characters). Not a secret, only unique and not
 * guessable in advance.
 */
export function requestId(): string {
  return randomId(12);
}
