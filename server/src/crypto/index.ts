/** Cryptographic building blocks: key derivation, IP encryption, constant-time compares. */
export { IpCipher } from './ip-cipher.js';
export { deriveKey } from './keys.js';
export { KnownSecrets, randomId, requestId, safeEqual, sha256 } from './secrets.js';
