import { createHash, createPrivateKey } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, type JWK } from 'jose';
import type { Clock } from '../context.js';
import { AppError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { JwsKey } from './jws.js';
import type { KeyStore } from './key-store.js';

type VerifyKey = CryptoKey | Uint8Array;

/** The key new tokens are signed with, in node:crypto's form (see jws.ts). */
export type SigningKey = JwsKey & { kid: string };

/**
 * The keys this instance signs and verifies with, held in memory so that verifying a token
 * touches no store. In ring mode the ring lives in MongoDB (shared by all instances) and is
 * re-read when another instance announces a change, and every few seconds as a safety net.
 * In static mode (SECRET_KEY) one HS256 key replaces the ring and rotation is disabled.
 */
export class Keyring {
  private signing: SigningKey | null = null;
  private verifying = new Map<string, { alg: 'ES256' | 'HS256'; key: VerifyKey }>();
  private published: JWK[] = [];
  private timer: NodeJS.Timeout | undefined;

  private constructor(private readonly store: KeyStore | null) {}

  static async fromSecret(secret: Buffer, log: Logger): Promise<Keyring> {
    const ring = new Keyring(null);
    const kid = `static-${createHash('sha256').update(secret).digest('base64url').slice(0, 8)}`;
    ring.signing = { kid, alg: 'HS256', key: new Uint8Array(secret) };
    ring.verifying.set(kid, { alg: 'HS256', key: new Uint8Array(secret) });
    log.warn({ kid }, 'keyring.static_secret_key');
    return ring;
  }

  /** Opens the shared ring, creating its first key when it is empty. */
  static async open(
    store: KeyStore,
    clock: Clock,
    refreshMs: number,
    onReloadError: (error: unknown) => void = () => undefined,
  ): Promise<Keyring> {
    const ring = new Keyring(store);
    await ring.reload();
    if (!ring.signing) {
      await createKey(store, clock);
      await ring.reload();
    }
    if (refreshMs > 0) {
      ring.timer = setInterval(() => void ring.reload().catch(onReloadError), refreshMs);
      ring.timer.unref();
    }
    return ring;
  }

  get isStatic(): boolean {
    return this.store === null;
  }

  /** Re-reads the ring from MongoDB; keeps the previous ring if that fails. */
  async reload(): Promise<void> {
    if (!this.store) return;
    const documents = await this.store.all();
    const verifying = new Map<string, { alg: 'ES256'; key: CryptoKey }>();
    let signing: SigningKey | null = null;
    for (const document of documents) {
      const key = await importJWK(document.publicJwk, 'ES256');
      verifying.set(document._id, { alg: 'ES256', key: key as CryptoKey });
      if (!signing && document.state === 'active') {
        signing = { kid: document._id, alg: 'ES256', key: createPrivateKey({ key: { ...this.store.unseal(document) }, format: 'jwk' }) };
      }
    }
    this.verifying = verifying;
    this.signing = signing;
    this.published = documents.map((document) => ({ ...document.publicJwk, kid: document._id, alg: 'ES256', use: 'sig' }));
  }

  signingKey(): SigningKey {
    if (!this.signing) throw new AppError('DEPENDENCY_UNAVAILABLE', { detail: 'no signing key' });
    return this.signing;
  }

  /** The verification key for a kid, or null when the kid is not (or no longer) in the ring. */
  verificationKey(kid: string): { alg: 'ES256' | 'HS256'; key: VerifyKey } | null {
    return this.verifying.get(kid) ?? null;
  }

  /** The public keys as a JWK Set; empty in static mode (an HS256 secret is never published). */
  jwks(): { keys: JWK[] } {
    return { keys: this.published };
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** Generates a new ES256 key and makes it the active one. Returns its kid. */
export async function createKey(store: KeyStore, clock: Clock): Promise<string> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  return insertKeyPair(store, await exportJWK(publicKey), await exportJWK(privateKey), clock);
}

/** Imports an existing P-256 private key (PKCS#8 PEM or private JWK) as the new active key. */
export async function importKey(store: KeyStore, text: string, clock: Clock): Promise<string> {
  let privateJwk: JWK;
  if (text.includes('-----BEGIN PRIVATE KEY-----')) {
    privateJwk = await exportJWK(await importPKCS8(text.trim(), 'ES256', { extractable: true }));
  } else {
    privateJwk = JSON.parse(text) as JWK;
    await importJWK(privateJwk, 'ES256'); // validates the key
  }
  if (privateJwk.kty !== 'EC' || privateJwk.crv !== 'P-256' || !privateJwk.d) throw new Error('expected a P-256 private key (ES256)');
  const { d: _d, ...publicJwk } = privateJwk;
  return insertKeyPair(store, publicJwk, privateJwk, clock, privateJwk.kid);
}

async function insertKeyPair(store: KeyStore, publicJwk: JWK, privateJwk: JWK, clock: Clock, kid?: string): Promise<string> {
  const id = kid && /^[A-Za-z0-9_-]{1,64}$/.test(kid) ? kid : (await calculateJwkThumbprint(publicJwk)).slice(0, 16);
  const clean = { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y } as JWK;
  await store.insertActive(id, clean, { ...clean, d: privateJwk.d }, clock.now());
  return id;
}
