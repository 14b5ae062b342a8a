/** Session records of every kind (browser, API token, paired extension) and their lifecycle. */
export { type CredentialDeps, loadUser, optionalSession, requireCredential, requireSession } from './authenticate.js';
export { SessionListCache } from './list-cache.js';
export { sessionRoutes } from './routes.js';
export { type ImpersonatedView, type ImpersonationResolver, SessionService, type SessionTokenResult } from './service.js';
export { signOut } from './sign-out.js';
export { SessionStore } from './store.js';
