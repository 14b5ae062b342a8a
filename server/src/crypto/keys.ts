import { hkdfSync } from 'node:crypto';

/**
 * Derives independent keys from the master key, one per purpose, so that no key is ever used
 * for two things (the IP encryption key of a user cannot sign a session, and so on).
 */
export function deriveKey(masterKey: Buffer, purpose: string, salt: Buffer = Buffer.alloc(0), length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, salt, `gatehouse/v1/${purpose}`, length));
}
