/** Sign-in through upstream OpenID Connect providers. */
export { BackchannelLogout } from './backchannel-logout.js';
export { LogoutTokenReplayStore } from './backchannel-replay.js';
export { LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS, LOGOUT_TOKEN_MAX_AGE_SECONDS } from './backchannel-token.js';
export { ProviderRegistry } from './providers.js';
export { oidcRoutes } from './routes.js';
export { SignInService } from './sign-in.js';
export { LoginStateStore } from './state-store.js';
