/** Sign-in through upstream OpenID Connect providers. */
export { ProviderRegistry } from './providers.js';
export { oidcRoutes } from './routes.js';
export { SignInService } from './sign-in.js';
export { LoginStateStore } from './state-store.js';
