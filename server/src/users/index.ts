/** Users and their upstream identities. */
export { mapRoles, resolveSignIn, type SignInResolution, type UpstreamProfile } from './provision.js';
export { type Identity, type User, UserStore } from './store.js';
