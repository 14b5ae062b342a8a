import type Router from '@koa/router';
import { z } from 'zod';
import { type AppContext, type AppState, oauthErrors, requestMeta, route } from '../http/index.js';
import type { BackchannelLogout } from './backchannel-logout.js';

/** JWTs from real providers are a few kilobytes; anything far larger is not a logout token. */
const logoutRequestSchema = z.strictObject({ logout_token: z.string().min(1).max(16_384) });

/**
 * `POST /auth/<provider>/backchannel-logout`, server to server: no cookies, no CSRF or origin
 * checks (the logout token's signature is the authentication). Errors use RFC 6749 bodies
 * (`{"error":"invalid_request"}` for a bad token, 503 when we can't decide), as the spec asks;
 * an unreadable request is audited before it is refused.
 */
export function mountBackchannelLogout(router: Router<AppState>, service: BackchannelLogout, bodyLimit: number): void {
  route(
    router,
    {
      method: 'post',
      path: '/auth/:provider/backchannel-logout',
      summary: 'OpenID Connect Back-Channel Logout from the identity provider.',
      auth: { kind: 'signed' },
      params: z.object({ provider: z.string() }),
      body: {
        schema: logoutRequestSchema,
        kind: 'form',
        limit: bodyLimit,
        onRefused: (ctx) => service.recordUnreadable(providerParam(ctx), requestMeta(ctx)),
      },
    },
    oauthErrors,
    async ({ params, body }, ctx) => {
      await service.receive(params.provider, body.logout_token, requestMeta(ctx));
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 200;
      return '';
    },
  );
}

/** The `:provider` path parameter @koa/router puts on the context. */
function providerParam(ctx: AppContext): string {
  return (ctx as AppContext & { params?: Record<string, string | undefined> }).params?.provider ?? '';
}
