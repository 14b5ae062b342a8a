import cors from '@koa/cors';
import type { Step } from './state.js';

/**
 * CORS for configured origins only (docs/security-tests.md C12): an origin not on the list gets no
 * CORS headers at all, and credentials are never allowed, so no site can ride a cookie.
 * A configured `*` (refused in production) allows reads without credentials.
 */
export function corsFor(origins: readonly string[]): Step {
  const wildcard = origins.includes('*');
  return cors({
    origin: (ctx) => {
      const origin = ctx.get('origin');
      if (wildcard) return '*';
      return origins.includes(origin) ? origin : '';
    },
    credentials: false,
    allowMethods: ['GET', 'POST', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'DPoP', 'X-CSRF-Token'],
    exposeHeaders: ['DPoP-Nonce', 'WWW-Authenticate', 'Retry-After', 'X-Request-Id'],
    maxAge: 600,
  }) as unknown as Step;
}
