/** Pairing paired clients through the device grant, their refresh tokens, and the pair page. */
export { CodeAttempts } from './attempts.js';
export { OAuthClients } from './clients.js';
export { CodeHasher } from './codes.js';
export { pairRoutes } from './pair-routes.js';
export { oauthRoutes } from './routes.js';
export { PairingService } from './service.js';
export { PairingStore } from './store.js';
