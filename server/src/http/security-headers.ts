import helmet from 'helmet';
import type { Step } from './state.js';

/**
 * Security headers with a strict CSP: no inline script or style anywhere, only our own
 * stylesheet, forms may post only to us, nothing may frame the pages. HSTS only over https.
 */
export function securityHeaders(https: boolean): Step {
  const setHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        scriptSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
    // same-origin, not no-referrer: under no-referrer browsers send `Origin: null` on our own form
    // posts, which the origin check (rightly) refuses; cross-site requests still get no referrer.
    referrerPolicy: { policy: 'same-origin' },
  });
  return async (ctx, next) => {
    await new Promise<void>((resolve, reject) => setHeaders(ctx.req, ctx.res, (error?: unknown) => (error ? reject(error) : resolve())));
    await next();
  };
}
