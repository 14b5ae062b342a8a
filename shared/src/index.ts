/** Everything the Gatehouse server and extension agree on. */
export * from './audit.js';
export * from './email.js';
export * from './errors.js';
export * from './extension-messages.js';
export * from './invitations.js';
export * from './local-auth.js';
export * from './pairing.js';
export * from './return-to.js';
export * from './schemas.js';
export * from './scopes.js';
