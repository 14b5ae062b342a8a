import { createHmac } from 'node:crypto';
import { deriveKey, safeEqual } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import type { AppContext, Step } from './state.js';

/**
 * CSRF tokens bound to the session (docs/security-tests.md C6): HMAC(key, session id). A token from
 * another session, or a cookie/header pair an attacker planted, never matches, and nothing
 * needs storing. Forms send it as `csrf`, scripts as the X-CSRF-Token header.
 */
export class CsrfTokens {
  private readonly key: Buffer;

  constructor(masterKey: Buffer) {
    this.key = deriveKey(masterKey, 'csrf');
  }

  forSession(sessionId: string): string {
    return createHmac('sha256', this.key).update(sessionId).digest('base64url');
  }

  /** Requires a valid token for the authenticated session on every unsafe request. */
  require(): Step {
    return async (ctx, next) => {
      if (!['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) {
        const sessionId = ctx.state.principal?.type === 'session' ? ctx.state.principal.sessionId : null;
        const presented = ctx.get('x-csrf-token') || formToken(ctx);
        if (!sessionId || !presented || !safeEqual(presented, this.forSession(sessionId))) {
          throw new AppError('CSRF_TOKEN_INVALID');
        }
      }
      await next();
    };
  }
}

function formToken(ctx: AppContext): string | null {
  const body = ctx.state.body;
  return typeof body === 'object' && body !== null && 'csrf' in body && typeof body.csrf === 'string' ? body.csrf : null;
}
