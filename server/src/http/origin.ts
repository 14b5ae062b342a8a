import { AppError } from '../errors/index.js';
import type { Step } from './state.js';

/**
 * Cross-site request protection for cookie-authenticated unsafe requests (docs/security-tests.md C1–C5):
 * the Origin header must equal our public origin exactly; without Origin, the Referer's origin
 * must; with neither, or with `Origin: null`, the request is refused. Exact comparison of the
 * serialised origin defeats look-alikes (other port, scheme, suffix, userinfo, trailing dot).
 */
export function requireSameOrigin(publicOrigin: string): Step {
  return async (ctx, next) => {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) {
      const origin = ctx.get('origin');
      const claimed = origin !== '' ? origin : originOf(ctx.get('referer'));
      if (claimed !== publicOrigin) throw new AppError('ORIGIN_REJECTED');
    }
    await next();
  };
}

function originOf(url: string): string | null {
  if (!url) return null;
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
