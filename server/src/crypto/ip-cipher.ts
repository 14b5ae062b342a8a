import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { deriveKey } from './keys.js';

const TAG_BYTES = 16;

/**
 * IP addresses at rest (docs/security-model.md "Privacy"). Each user has a random salt; their key is
 * HKDF(master key, salt), so destroying the salt makes every stored IP of that user unreadable
 * (crypto-shredding). AES-256-GCM with a random 96-bit IV, the user id as associated data so a
 * ciphertext can't be moved to another user. Format: `v1.<iv>.<ciphertext+tag>` (base64url).
 * The blind index is a keyed HMAC over the address, the same for all users, so "same IP"
 * can be matched without decrypting; it is not reversible without the master key.
 */
/** How many users' derived IP keys each instance keeps (32 bytes each). */
const USER_KEYS_KEPT = 1_000;
/** How many opened addresses each instance keeps (a session list's worth for many users). */
const OPENED_KEPT = 20_000;

export class IpCipher {
  private readonly blindKey: Buffer;
  private readonly userKeys = new Map<string, Buffer>();
  private readonly opened = new Map<string, string>();

  constructor(private readonly masterKey: Buffer) {
    this.blindKey = deriveKey(masterKey, 'ip-blind-index');
  }

  static newUserSalt(): string {
    return randomBytes(32).toString('base64url');
  }

  /**
   * Seals an address for one user. Without a salt (the user was crypto-shredded) nothing is
   * stored: null, rather than a key derived from nothing or a crash in the caller's request.
   */
  encrypt(ip: string, userId: string, userSalt: string | null | undefined): string | null {
    if (!userSalt) return null;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.userKey(userSalt), iv);
    cipher.setAAD(Buffer.from(userId));
    const body = Buffer.concat([cipher.update(ip, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `v1.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** Returns null when the value can't be decrypted (shredded salt, tampering, wrong user). */
  decrypt(sealed: string, userId: string, userSalt: string | null | undefined): string | null {
    const [version, ivText, bodyText] = sealed.split('.');
    if (version !== 'v1' || !ivText || !bodyText || !userSalt) return null;
    // A session list shows the same addresses on every read: each is opened once per instance.
    // Keyed by salt, user and ciphertext, so a shredded salt (null above) or another user's key
    // never finds an answer here.
    const memoKey = `${userSalt}|${userId}|${sealed}`;
    const known = this.opened.get(memoKey);
    if (known !== undefined) return known;
    const plain = this.open(ivText, bodyText, userId, userSalt);
    if (plain !== null) {
      if (this.opened.size >= OPENED_KEPT) this.opened.delete(this.opened.keys().next().value as string);
      this.opened.set(memoKey, plain);
    }
    return plain;
  }

  private open(ivText: string, bodyText: string, userId: string, userSalt: string): string | null {
    try {
      const body = Buffer.from(bodyText, 'base64url');
      if (body.length < TAG_BYTES) return null;
      // authTagLength pins the tag to 128 bits: GCM (and Node) would otherwise accept a tag
      // truncated to 4 bytes, i.e. a forgery chance of 2^-32 instead of 2^-128.
      const decipher = createDecipheriv('aes-256-gcm', this.userKey(userSalt), Buffer.from(ivText, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(userId));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  blindIndex(ip: string): string {
    return createHmac('sha256', this.blindKey).update(ip).digest('base64url').slice(0, 32);
  }

  /**
   * The user's key, derived once per salt and kept for the next: a session list decrypts up to a
   * hundred addresses of one user per request. Keyed by the salt, so a shredded user (salt gone)
   * is never asked for again and drops out of the bounded map.
   */
  private userKey(userSalt: string): Buffer {
    const known = this.userKeys.get(userSalt);
    if (known) return known;
    const key = deriveKey(this.masterKey, 'ip-encryption', Buffer.from(userSalt, 'base64url'));
    if (this.userKeys.size >= USER_KEYS_KEPT) this.userKeys.delete(this.userKeys.keys().next().value as string);
    this.userKeys.set(userSalt, key);
    return key;
  }
}
