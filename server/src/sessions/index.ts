/** Session records, the browser session token, and authentication by session. */
export { describeDevice } from './device.js';
export { type AuthenticatedSession, SessionService } from './service.js';
export type { SessionRecord } from './store.js';
export type { SessionClaims } from './token.js';
