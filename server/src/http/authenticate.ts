import { AppError } from '../errors/index.js';
import type { SessionService } from '../sessions/index.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';
import type { Step } from './state.js';

/** Requires a valid browser session cookie; the result lands on ctx.state.auth. */
export function requireSession(sessions: SessionService): Step {
  return async (ctx, next) => {
    const token = readCookie(ctx, SESSION_COOKIE);
    if (!token) throw new AppError('UNAUTHENTICATED');
    ctx.state.auth = await sessions.authenticate(token);
    await next();
  };
}

/** Like requireSession, but a missing or dead cookie just means "signed out". */
export function optionalSession(sessions: SessionService): Step {
  return async (ctx, next) => {
    const token = readCookie(ctx, SESSION_COOKIE);
    if (token) {
      try {
        ctx.state.auth = await sessions.authenticate(token);
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
      }
    }
    await next();
  };
}
