/** Gatehouse's own tokens: the keyring, minting, the verification pipeline and revocation. */
export { Authenticator, hasScope, type Principal } from './authenticator.js';
export { DpopVerifier, type ProofCheck } from './dpop.js';
export { announceKeysChanged, invalidationChannel, listenForInvalidation } from './invalidation.js';
export { type MintInput, type TokenClaims, TokenIssuer } from './jwt.js';
export { KeyAdmin, type KeyRow } from './key-admin.js';
export { KeyStore } from './key-store.js';
export { createKey, importKey, Keyring } from './keyring.js';
export { type OnceKey, RevocationState } from './revocation.js';
export { tokenRoutes } from './routes.js';
