import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { Collection, Db } from 'mongodb';
import { deriveKey } from '../crypto/index.js';
import { guardStore } from '../errors/index.js';
import { COLLECTIONS } from '../store/index.js';

export type KeyState = 'active' | 'retired';

/** A signing key as stored: the private JWK sealed under a key derived from MASTER_KEY. */
export interface KeyDocument {
  _id: string;
  alg: 'ES256';
  state: KeyState;
  publicJwk: JWK;
  sealedPrivateJwk: string;
  createdAt: Date;
  retiredAt: Date | null;
}

/**
 * The keys collection, shared by every instance. Contract: the newest `active` key signs;
 * every key present verifies; rotation inserts the new key first and retires the others after,
 * so a crash in between leaves two active keys (harmless: the newest signs) and never none.
 */
export class KeyStore {
  readonly keys: Collection<KeyDocument>;
  private readonly sealKey: Buffer;

  constructor(db: Db, masterKey: Buffer) {
    this.keys = db.collection<KeyDocument>(COLLECTIONS.keys);
    this.sealKey = deriveKey(masterKey, 'keyring');
  }

  all(): Promise<KeyDocument[]> {
    return guardStore(() => this.keys.find({}).sort({ createdAt: -1 }).limit(100).toArray());
  }

  async insertActive(kid: string, publicJwk: JWK, privateJwk: JWK, now: Date): Promise<void> {
    await guardStore(() =>
      this.keys.insertOne({
        _id: kid,
        alg: 'ES256',
        state: 'active',
        publicJwk,
        sealedPrivateJwk: this.seal(kid, privateJwk),
        createdAt: now,
        retiredAt: null,
      }),
    );
    await guardStore(() => this.keys.updateMany({ state: 'active', _id: { $ne: kid } }, { $set: { state: 'retired', retiredAt: now } }));
  }

  /** Deletes retired keys retired before `cutoff`; returns their kids. */
  async pruneRetiredBefore(cutoff: Date): Promise<string[]> {
    const doomed = await guardStore(() => this.keys.find({ state: 'retired', retiredAt: { $lt: cutoff } }).toArray());
    if (doomed.length === 0) return [];
    const kids = doomed.map((key) => key._id);
    await guardStore(() => this.keys.deleteMany({ _id: { $in: kids }, state: 'retired' }));
    return kids;
  }

  unseal(document: KeyDocument): JWK {
    const [version, iv, body] = document.sealedPrivateJwk.split('.');
    if (version !== 'v1' || !iv || !body) throw new Error(`key ${document._id} has an unknown seal`);
    const data = Buffer.from(body, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.sealKey, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(document._id));
    decipher.setAuthTag(data.subarray(data.length - 16));
    const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as JWK;
  }

  private seal(kid: string, jwk: JWK): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    cipher.setAAD(Buffer.from(kid));
    const body = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `v1.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }
}
