import { type ErrorCode, problemFor } from '@gatehouse/shared';
import { AppError } from '../errors/index.js';
import type { AppContext, Step } from './state.js';

/** Renders an error as an HTML page, for routes a person's browser opens directly. */
export type HtmlErrorRenderer = (ctx: AppContext, error: AppError) => string;

/**
 * The one place that decides the wire format of a failure. Known errors become problem
 * details (RFC 9457) with their stable code; anything else becomes a generic 500 with the
 * request id, logged in full here and never sent.
 */
export function errorHandler(renderHtml: HtmlErrorRenderer): Step {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError('NOT_FOUND');
    } catch (thrown) {
      const error = toAppError(thrown);
      const log = ctx.state.log;
      if (error.status >= 500) log?.error({ err: thrown, errorCode: error.code }, 'http.error');
      else log?.info({ errorCode: error.code, cause: describeCause(error.cause) }, 'http.rejected');

      // Headers set by earlier steps (cookies, cache) must not survive into an error response.
      for (const name of Object.keys(ctx.response.headers)) {
        if (
          ![
            'x-request-id',
            'content-security-policy',
            'strict-transport-security',
            'x-content-type-options',
            'x-frame-options',
            'referrer-policy',
            'cross-origin-opener-policy',
            'cross-origin-resource-policy',
            'access-control-allow-origin',
            'access-control-expose-headers',
            'vary',
            // A fresh DPoP nonce is useful on every answer, errors included (RFC 9449 §8).
            'dpop-nonce',
          ].includes(name)
        ) {
          ctx.remove(name);
        }
      }
      for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
      // A store that is down or failing over (docs/redis.md) is worth retrying in a moment.
      if (error.status === 503 && !ctx.response.get('Retry-After')) ctx.set('Retry-After', '1');
      ctx.status = error.status;
      ctx.set('Cache-Control', 'no-store');
      if ((ctx.state.htmlErrors || opensAsPage(ctx)) && ctx.accepts('html', 'json') === 'html') {
        ctx.type = 'html';
        ctx.body = renderHtml(ctx, error);
        return;
      }
      if (ctx.state.oauthErrors) {
        ctx.type = 'application/json';
        ctx.body = { error: oauthError(error), error_description: error.message };
        return;
      }
      ctx.type = 'application/problem+json';
      ctx.body = {
        ...problemFor(error.code, ctx.state.requestId),
        ...(error.issues ? { errors: error.issues } : {}),
      };
    }
  };
}

/** API prefixes answer problem details whatever the Accept header says (docs/architecture.md "Routes"). */
const API_PATHS = /^\/(api|oauth|\.well-known|ssf|metrics)(\/|$)/;

/**
 * A path no page route claimed, opened by a person's browser (it asks for text/html by name):
 * the styled error page, not the raw problem document. API clients keep JSON.
 */
function opensAsPage(ctx: AppContext): boolean {
  return ctx.method === 'GET' && !API_PATHS.test(ctx.path) && /\btext\/html\b/.test(ctx.get('accept'));
}

/** Koa and its middleware throw http-errors with a status; map those to our codes. */
function toAppError(thrown: unknown): AppError {
  if (thrown instanceof AppError) return thrown;
  const status = (thrown as { status?: unknown } | null)?.status;
  const type = (thrown as { type?: unknown } | null)?.type;
  if (status === 413 || type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', { cause: thrown });
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', { cause: thrown });
  if (type === 'entity.parse.failed') return new AppError('MALFORMED_JSON', { cause: thrown });
  if (status === 400) return new AppError('VALIDATION_FAILED', { cause: thrown });
  if (status === 405 || status === 501) return new AppError('METHOD_NOT_ALLOWED', { cause: thrown });
  if (status === 404) return new AppError('NOT_FOUND', { cause: thrown });
  if (status === 408) return new AppError('REQUEST_TIMEOUT', { cause: thrown });
  return new AppError('INTERNAL_ERROR', { cause: thrown });
}

function describeCause(cause: unknown): string | undefined {
  if (!cause) return undefined;
  const name = (cause as { name?: string }).name ?? 'Error';
  const code = (cause as { code?: string }).code;
  return code ? `${name}:${code}` : name;
}

/** RFC 6749 §5.2 error names for the OAuth endpoints. */
/** RFC 6749, 8628 and 9449 error names for our codes; anything else is a generic one below. */
const OAUTH_ERRORS: Partial<Record<ErrorCode, string>> = {
  INVALID_CLIENT: 'invalid_client',
  CLIENT_UNKNOWN: 'invalid_client',
  SCOPE_INVALID: 'invalid_scope',
  GRANT_TYPE_UNSUPPORTED: 'unsupported_grant_type',
  GRANT_INVALID: 'invalid_grant',
  AUTHORIZATION_PENDING: 'authorization_pending',
  SLOW_DOWN: 'slow_down',
  ACCESS_DENIED: 'access_denied',
  CODE_EXPIRED: 'expired_token',
  DPOP_PROOF_INVALID: 'invalid_dpop_proof',
  DPOP_NONCE_REQUIRED: 'use_dpop_nonce',
};

function oauthError(error: AppError): string {
  const named = OAUTH_ERRORS[error.code];
  if (named) return named;
  switch (error.code) {
    case 'RATE_LIMITED':
      return 'temporarily_unavailable';
    default:
      // Any 503 (Redis, MongoDB or the identity provider unreachable) is temporary by nature.
      if (error.status === 503) return 'temporarily_unavailable';
      return error.status < 500 ? 'invalid_request' : 'server_error';
  }
}
