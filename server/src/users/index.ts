/** Users and their upstream identities. */

export { UserCache, userChangeAnnouncer } from './cache.js';
export { mapRoles, resolveSignIn, type SignInResolution, type UpstreamProfile } from './provision.js';
export { type Identity, type User, UserStore } from './store.js';
