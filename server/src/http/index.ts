/** Cross-cutting HTTP steps shared by every feature's routes. This library imports no feature. */

export { mediaType, readText, uncompressedBody } from './body.js';
export { rateLimitKey } from './client-ip.js';
export {
  clearHostCookie,
  IMPERSONATION_COOKIE,
  INVITE_COOKIE,
  LOGIN_COOKIE,
  readCookie,
  SESSION_COOKIE,
  setHostCookie,
} from './cookies.js';
export { corsFor } from './cors.js';
export { CsrfTokens } from './csrf.js';
export { describeDevice } from './device.js';
export { errorHandler } from './error-handler.js';
export { backTo, readForm } from './forms.js';
export { healthRoutes } from './health.js';
export { htmlPage, sendHtml } from './html.js';
export { loadShed } from './load-shed.js';
export { methodGuard } from './method-guard.js';
export { oauthErrors, rawHeaderValues } from './oauth.js';
export { openApiRoutes, renderOpenApiFile } from './openapi.js';
export { requireSameOrigin } from './origin.js';
export { parseBody, readParams, validate } from './parse.js';
export { consumePoint, createLimiter, generalRateLimit, type Limiter, rateLimit } from './rate-limit.js';
export { requestContext, requestMeta } from './request-context.js';
export { PARSE, route } from './route.js';
export { securityHeaders } from './security-headers.js';
export { createHttpServer, SERVER_TIMEOUTS } from './server.js';
export type { AppContext, AppState, Step } from './state.js';
