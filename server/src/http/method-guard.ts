import { AppError } from '../errors/index.js';
import type { Step } from './state.js';

const OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'];

/**
 * Refuses TRACE/TRACK/CONNECT outright and any method-override header (docs/security-tests.md N11):
 * a GET must never be turned into a state-changing request by a header.
 */
export function methodGuard(): Step {
  return async (ctx, next) => {
    if (['TRACE', 'TRACK', 'CONNECT'].includes(ctx.method)) throw new AppError('METHOD_NOT_ALLOWED');
    if (OVERRIDE_HEADERS.some((header) => ctx.get(header) !== '')) throw new AppError('METHOD_OVERRIDE_REFUSED');
    await next();
  };
}
