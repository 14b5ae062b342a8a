/** Cryptographic building blocks: key derivation, IP encryption, constant-time compares. */
export { IpCipher } from './ip-cipher.js';
export { deriveKey } from './keys.js';
export { matchesDigest, randomId, requestId, type SecretDigest, safeEqual, secretDigest, sha256 } from './secrets.js';
