/** Cross-cutting HTTP steps shared by every feature's routes. */
export { type CredentialDeps, optionalSession, requireCredential, requireSession } from './authenticate.js';
export { clearHostCookie, LOGIN_COOKIE, readCookie, SESSION_COOKIE, setHostCookie } from './cookies.js';
export { CsrfTokens } from './csrf.js';
export { oauthErrors, rawHeaderValues } from './oauth.js';
export { requireSameOrigin } from './origin.js';
export { parseBody, parseQuery, readParams, validate } from './parse.js';
export { consumePoint, createLimiter, type Limiter, rateLimit } from './rate-limit.js';
export { requestMeta } from './request-context.js';
export type { AppContext, AppState, Step } from './state.js';
