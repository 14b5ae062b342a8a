/** Users and their upstream identities. */
export { UserCache, userChangeAnnouncer } from './cache.js';
export { newAccount, resolveSignIn, type SignInResolution, type UpstreamProfile } from './provision.js';
export { type User, UserStore } from './store.js';
