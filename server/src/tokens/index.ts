/** Gatehouse's own tokens: the keyring, minting, the verification pipeline and revocation. */
export { Authenticator, hasScope, type Principal } from './authenticator.js';
export { DpopVerifier } from './dpop.js';
export { cacheAnnouncer, invalidationChannel, listenForInvalidation } from './invalidation.js';
export { TokenIssuer } from './jwt.js';
export { KeyAdmin, type KeyRow } from './key-admin.js';
export { KeyStore } from './key-store.js';
export { Keyring } from './keyring.js';
export { type OnceKey, RevocationState, sweepDenylist } from './revocation.js';
export { tokenRoutes } from './routes.js';
