import { z } from 'zod';
import { AppError } from '../errors/index.js';
import { type AppContext, parseBody, requestMeta, type Step } from '../http/index.js';
import type { BackchannelLogout } from './backchannel-logout.js';

/** JWTs from real providers are a few kilobytes; anything far larger is not a logout token. */
const logoutRequestSchema = z.strictObject({ logout_token: z.string().min(1).max(16_384) });

/**
 * `POST /auth/<provider>/backchannel-logout`, server to server: no cookies, no CSRF or origin
 * checks (the logout token's signature is the authentication). Errors use RFC 6749 bodies
 * (`{"error":"invalid_request"}` for a bad token, 503 when we can't decide), as the spec asks.
 */
export function backchannelLogoutSteps(service: BackchannelLogout, bodyLimit: number): Step[] {
  const oauthErrors: Step = async (ctx, next) => {
    ctx.state.oauthErrors = true;
    await next();
  };
  const readRequest = parseBody(logoutRequestSchema, { kinds: ['form'], limit: bodyLimit });
  const parseLogoutRequest: Step = async (ctx, next) => {
    try {
      await readRequest(ctx, async () => undefined);
    } catch (error) {
      if (error instanceof AppError && error.status < 500) await service.recordUnreadable(providerParam(ctx), requestMeta(ctx));
      throw error;
    }
    await next();
  };
  const endSessions: Step = async (ctx) => {
    const { logout_token } = ctx.state.body as z.infer<typeof logoutRequestSchema>;
    await service.receive(providerParam(ctx), logout_token, requestMeta(ctx));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = '';
    ctx.status = 200;
  };
  return [oauthErrors, parseLogoutRequest, endSessions];
}

/** The `:provider` path parameter @koa/router puts on the context. */
function providerParam(ctx: AppContext): string {
  return (ctx as AppContext & { params?: Record<string, string | undefined> }).params?.provider ?? '';
}
