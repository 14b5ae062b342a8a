import { createHmac, randomInt } from 'node:crypto';
import { USER_CODE_ALPHABET, USER_CODE_LENGTH } from '@gatehouse/shared';
import { deriveKey, randomId } from '../crypto/index.js';

/** A user code: 8 Crockford base32 characters, 40 bits, drawn uniformly (randomInt has no modulo bias). */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/** Device codes and refresh tokens: 256 random bits, url-safe. */
export function newSecret(): string {
  return randomId(32);
}

/**
 * Hashes of codes and refresh tokens, the only form in which they are stored (docs/security-tests.md P9).
 * Keyed with a key derived from the master key: a user code has only 40 bits, so a plain hash
 * read from a stolen database could be reversed by trying them all; a keyed one cannot.
 */
export class CodeHasher {
  private readonly key: Buffer;

  constructor(masterKey: Buffer) {
    this.key = deriveKey(masterKey, 'pairing-codes');
  }

  hash(kind: 'user' | 'device' | 'refresh', value: string): string {
    return createHmac('sha256', this.key).update(`${kind}:${value}`).digest('base64url');
  }
}
