import { createHmac, createPublicKey, hash, type KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, type JWK, type JWTPayload } from 'jose';
import type { Clock } from '../context.js';
import { deriveKey, KnownSecrets, safeEqual } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import { redisHealth } from '../store/index.js';
import { signatureValid } from './jws.js';
import type { OnceKey } from './revocation.js';

/** Proofs older than this (by their own `iat`) are stale; the replay cache keeps jtis as long. */
export const PROOF_MAX_AGE_SECONDS = 120;
/** A proof may claim an `iat` this far ahead of our clock (client clocks drift). */
export const PROOF_MAX_FUTURE_SECONDS = 30;
/** Server nonces rotate every window; the current and the previous one are accepted. */
const NONCE_WINDOW_SECONDS = 300;
const MAX_PROOF_BYTES = 4096;
const KEY_CACHE_SIZE = 10_000;
const PROOF_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

interface ImportedKey {
  key: KeyObject;
  /** RFC 7638 thumbprint (SHA-256) of the public key. */
  jkt: string;
}

export interface ProofCheck {
  /** The DPoP header values as received (more than one is refused). */
  proofs: string[];
  /** HTTP method and the request URI without query or fragment (RFC 9449 §4.3). */
  htm: string;
  htu: string;
  /** For resource requests: the access token, whose hash the proof must carry as `ath`. */
  accessToken?: string;
  /** Require our `DPoP-Nonce` (token endpoint); a missing or old one gets `use_dpop_nonce`. */
  requireNonce: boolean;
}

/**
 * Verifies DPoP proofs (RFC 9449): one compact JWS with `typ: dpop+jwt`, ES256 over the public
 * P-256 key in its own header, `htm`/`htu` matching this request, `iat` inside a short window,
 * `ath` for resource requests, our nonce where required, and a `jti` never seen before within
 * the window (Redis SET NX; when Redis cannot answer, the proof is refused: fail closed).
 * Returns the key's RFC 7638 thumbprint, which tokens are bound to (`cnf.jkt`).
 */
export class DpopVerifier {
  private readonly nonceKey: Buffer;
  private readonly keys = new Map<string, ImportedKey>();

  constructor(
    private readonly redis: Redis,
    masterKey: Buffer,
    private readonly clock: Clock,
  ) {
    this.nonceKey = deriveKey(masterKey, 'dpop-nonce');
  }

  /** The nonce to hand out now, in `DPoP-Nonce`: stateless, so every instance agrees. */
  currentNonce(): string {
    return this.nonceFor(this.window());
  }

  /** Checks a proof and claims its jti in Redis (the token endpoint's path). */
  async verify(check: ProofCheck): Promise<{ jkt: string }> {
    const { jkt, replayKey } = await this.verifyProof(check);
    await this.claimOnce(replayKey);
    return { jkt };
  }

  /**
   * Checks a proof without touching Redis; the caller claims `replayKey` once (resource requests
   * fold it into the revocation round trip, so a DPoP request costs one Redis round trip).
   */
  async verifyProof(check: ProofCheck): Promise<{ jkt: string; replayKey: OnceKey }> {
    if (check.proofs.length !== 1) throw proofError('one DPoP header is required');
    const proof = check.proofs[0] as string;
    if (proof.length > MAX_PROOF_BYTES || !PROOF_SHAPE.test(proof)) throw proofError('malformed proof');

    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(proof);
    } catch (error) {
      throw proofError('malformed proof', error);
    }
    const jwk = header.jwk as JWK | undefined;
    // Only a public P-256 key: a private member in the header means the client leaked its key.
    // No `crit`: no extension is understood here, so none may be required (RFC 7515 §4.1.11).
    if (header.typ !== 'dpop+jwt' || header.alg !== 'ES256' || !jwk || jwk.kty !== 'EC' || jwk.crv !== 'P-256' || 'd' in jwk)
      throw proofError('proof header not acceptable');
    if ('crit' in header) throw proofError('proof header not acceptable');

    const nowMs = this.clock.now().getTime();
    let payload: JWTPayload;
    let jkt: string;
    try {
      const imported = await this.publicKey(jwk);
      jkt = imported.jkt;
      if (!signatureValid(proof, imported.key)) throw new Error('signature does not verify');
      payload = decodeJwt(proof);
    } catch (error) {
      throw proofError('bad proof signature', error);
    }
    // What jose's jwtVerify checked besides the signature: exp and nbf, when a proof carries them.
    const { exp, nbf } = payload;
    const expired = exp !== undefined && !(typeof exp === 'number' && exp > nowMs / 1000);
    const early = nbf !== undefined && !(typeof nbf === 'number' && nbf <= nowMs / 1000);
    if (expired || early) throw proofError('proof outside its validity');
    const { htm, htu, iat, jti, ath, nonce } = payload as JWTPayload & Record<string, unknown>;
    if (typeof jti !== 'string' || jti.length < 16 || jti.length > 128) throw proofError('jti missing');
    // The usual proof names exactly the URI it was sent to; only another spelling needs parsing.
    if (htm !== check.htm || typeof htu !== 'string' || (htu !== check.htu && normaliseHtu(htu) !== check.htu))
      throw proofError('htm/htu mismatch');
    const now = nowMs / 1000;
    if (typeof iat !== 'number' || iat < now - PROOF_MAX_AGE_SECONDS || iat > now + PROOF_MAX_FUTURE_SECONDS)
      throw proofError('iat outside the window');
    if (check.accessToken !== undefined) {
      const expected = hash('sha256', check.accessToken, 'base64url');
      if (typeof ath !== 'string' || !safeEqual(ath, expected)) throw proofError('ath mismatch');
    }
    if (check.requireNonce && !(typeof nonce === 'string' && this.nonceValid(nonce)))
      throw new AppError('DPOP_NONCE_REQUIRED', { headers: { 'DPoP-Nonce': this.currentNonce() } });

    const key = `dpop:jti:${hash('sha256', `${jkt}.${jti}`, 'base64url')}`;
    return { jkt, replayKey: { key, ttlSeconds: PROOF_MAX_AGE_SECONDS + PROOF_MAX_FUTURE_SECONDS } };
  }

  /**
   * The proof's public key, imported once per key: a paired client signs every request with
   * the same key, and importing it costs more than verifying the signature.
   */
  private async publicKey(jwk: JWK): Promise<ImportedKey> {
    const id = `${jwk.x}.${jwk.y}`;
    let imported = this.keys.get(id);
    if (!imported) {
      const publicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
      imported = { key: createPublicKey({ key: publicJwk, format: 'jwk' }), jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
      if (this.keys.size >= KEY_CACHE_SIZE) this.keys.delete(this.keys.keys().next().value as string);
      this.keys.set(id, imported);
    }
    return imported;
  }

  private async claimOnce({ key, ttlSeconds }: OnceKey): Promise<void> {
    const fresh = await redisHealth(this.redis).failClosed(() => this.redis.set(key, '1', 'EX', ttlSeconds, 'NX'));
    if (fresh !== 'OK') throw proofError('replayed proof');
  }

  private window(): number {
    return Math.floor(this.clock.now().getTime() / 1000 / NONCE_WINDOW_SECONDS);
  }

  /**
   * The last windows' nonces: three HMACs per token request otherwise (issue 14 profiles).
   */
  private readonly nonces = new Map<number, string>();
  /** The nonces a proof may carry now, for the window they were made in. */
  private accepted: { window: number; nonces: KnownSecrets } | undefined;

  private nonceFor(window: number): string {
    const known = this.nonces.get(window);
    if (known) return known;
    const nonce = this.computeNonce(window);
    if (this.nonces.size >= 4) this.nonces.delete(this.nonces.keys().next().value as number);
    this.nonces.set(window, nonce);
    return nonce;
  }

  private computeNonce(window: number): string {
    const stamp = Buffer.alloc(4);
    stamp.writeUInt32BE(window >>> 0);
    const mac = createHmac('sha256', this.nonceKey).update(stamp).digest().subarray(0, 16);
    return Buffer.concat([stamp, mac]).toString('base64url');
  }

  private nonceValid(nonce: string): boolean {
    const window = this.window();
    // Compared against both accepted nonces every time, so timing says nothing about which matched.
    if (this.accepted?.window !== window) {
      this.accepted = { window, nonces: new KnownSecrets([this.nonceFor(window), this.nonceFor(window - 1)]) };
    }
    return this.accepted.nonces.has(nonce);
  }
}

/** The `htu` as RFC 9449 compares it: scheme, host and path, without query or fragment. */
function normaliseHtu(value: string): string | null {
  try {
    const url = new URL(value);
    return `${url.origin}${url.pathname}`;
  } catch {
    return null;
  }
}

function proofError(reason: string, cause?: unknown): AppError {
  return new AppError('DPOP_PROOF_INVALID', { cause: cause ?? new Error(reason) });
}
