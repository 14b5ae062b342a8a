/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import Router from '@koa/router';
import { renderToString } from 'preact-render-to-string';
import { z } from 'zod';
import { safeEqual } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import {
  type AppState,
  type CsrfTokens,
  clearHostCookie,
  htmlPage,
  IMPERSONATION_COOKIE,
  parseBody,
  readCookie,
  requestMeta,
  requireSameOrigin,
  SESSION_COOKIE,
  type Step,
} from '../http/index.js';
import type { SessionService } from '../sessions/index.js';
import type { ImpersonationService } from './service.js';

const stopFormSchema = z.strictObject({ csrf: z.string().max(100) });

/**
 * `POST /impersonation/stop`: the banner's Stop button. It reads the admin's session itself
 * (every other cookie request is read-only during a view) and needs that session's CSRF token.
 */
export function impersonationRoutes(deps: {
  impersonation: ImpersonationService;
  sessions: SessionService;
  csrf: CsrfTokens;
  publicOrigin: string;
  bodyLimit: number;
}) {
  const router = new Router<AppState>();
  router.post(
    '/impersonation/stop',
    htmlPage,
    requireSameOrigin(deps.publicOrigin),
    parseBody(stopFormSchema, { kinds: ['form'], limit: deps.bodyLimit }),
    async (ctx) => {
      const sessionToken = readCookie(ctx, SESSION_COOKIE);
      if (!sessionToken) throw new AppError('UNAUTHENTICATED');
      const { principal } = await deps.sessions.authenticate(sessionToken);
      const { csrf } = ctx.state.body as z.infer<typeof stopFormSchema>;
      if (!principal.sessionId || !safeEqual(csrf, deps.csrf.forSession(principal.sessionId))) throw new AppError('CSRF_TOKEN_INVALID');
      const token = readCookie(ctx, IMPERSONATION_COOKIE);
      const viewed = token ? await deps.impersonation.stop(token, principal, requestMeta(ctx)) : null;
      clearHostCookie(ctx, IMPERSONATION_COOKIE);
      ctx.status = 303;
      ctx.redirect(viewed ? `/admin/users/${encodeURIComponent(viewed)}?done=impersonation-stopped` : '/admin');
    },
  );
  return router;
}

/**
 * Puts the support-view banner at the top of every page answered during a view: who is viewed,
 * by whom, until when, and a Stop button. Pages are server-rendered strings, so the banner is
 * added to the finished page rather than threaded through every component.
 */
export function impersonationBanner(csrf: CsrfTokens): Step {
  return async (ctx, next) => {
    await next();
    const banner = ctx.state.impersonation;
    if (!banner || typeof ctx.body !== 'string' || !ctx.response.is('html')) return;
    const html = renderToString(
      <div class="banner banner-warning impersonation-banner" role="status" id="impersonation-banner">
        <p>
          Support view: you, {banner.adminName}, are viewing the account of <strong>{banner.viewedName}</strong>
          {banner.viewedEmail ? ` (${banner.viewedEmail})` : ''}, read-only, until{' '}
          <time dateTime={banner.until.toISOString()}>{`${banner.until.toISOString().slice(11, 16)} UTC`}</time>.
        </p>
        <form method="post" action="/impersonation/stop">
          <input type="hidden" name="csrf" value={csrf.forSession(banner.adminSessionId)} />
          <button class="button" type="submit">
            Stop
          </button>
        </form>
      </div>,
    );
    ctx.body = ctx.body.replace('<main id="main">', `<main id="main">${html}`);
  };
}
