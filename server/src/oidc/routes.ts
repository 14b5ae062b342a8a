import { callbackQuerySchema, loginQuerySchema } from '@gatehouse/shared';
import Router from '@koa/router';
import { z } from 'zod';
import type { AuditLog } from '../audit/index.js';
import { AppError } from '../errors/index.js';
import {
  type AppContext,
  type AppState,
  type CsrfTokens,
  clearHostCookie,
  htmlPage,
  INVITE_COOKIE,
  LOGIN_COOKIE,
  parseBody,
  readCookie,
  readParams,
  requestMeta,
  requireSameOrigin,
  route,
  SESSION_COOKIE,
  type Step,
  setHostCookie,
  validate,
} from '../http/index.js';
import { requireSession, type SessionService, signOut } from '../sessions/index.js';
import type { RevocationState } from '../tokens/index.js';
import type { UserStore } from '../users/index.js';
import type { BackchannelLogout } from './backchannel-logout.js';
import { mountBackchannelLogout } from './backchannel-route.js';
import type { SignInService } from './sign-in.js';

export interface OidcRouteDeps {
  signIn: SignInService;
  sessions: SessionService;
  audit: AuditLog;
  revocation: RevocationState;
  users: UserStore;
  csrf: CsrfTokens;
  publicOrigin: string;
  stateTtlSeconds: number;
  bodyLimit: number;
  signInLimit: Step;
  backchannel: BackchannelLogout;
}

const logoutFormSchema = z.strictObject({ csrf: z.string().max(100) });
const providerParams = z.object({ provider: z.string() });

/** SSO sign-in (`/auth/<provider>/login`, `/auth/<provider>/callback`) and sign-out. */
export function oidcRoutes(deps: OidcRouteDeps) {
  const router = new Router<AppState>();

  route(
    router,
    {
      method: 'get',
      path: '/auth/:provider/login',
      summary: 'Start a sign-in at the provider.',
      hidden: true,
      params: providerParams,
      query: loginQuerySchema,
    },
    htmlPage,
    deps.signInLimit,
    async ({ params, query }, ctx) => {
      const started = await deps.signIn.start(
        params.provider,
        query.return_to,
        readCookie(ctx, LOGIN_COOKIE),
        requestMeta(ctx),
        readCookie(ctx, INVITE_COOKIE),
      );
      setHostCookie(ctx, LOGIN_COOKIE, started.browserBinding, deps.stateTtlSeconds);
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect(started.authorizationUrl);
    },
  );

  router.get('/auth/:provider/callback', htmlPage, deps.signInLimit, async (ctx) => {
    const { raw, query } = await readCallback(ctx, deps.signIn);
    const result = await deps.signIn.finish(
      {
        providerId: ctx.params.provider ?? '',
        query: raw,
        state: query.state,
        error: query.error,
        browserBinding: readCookie(ctx, LOGIN_COOKIE),
      },
      requestMeta(ctx),
    );
    // Any session this browser had before is ended: a fresh sid per sign-in (no fixation, C9).
    const previous = readCookie(ctx, SESSION_COOKIE);
    if (previous) {
      await deps.sessions.authenticate(previous).then(
        ({ principal }) => (principal.sessionId ? deps.sessions.revoke(principal.sessionId, principal.userId, 'replaced') : false),
        () => undefined,
      );
    }
    clearHostCookie(ctx, LOGIN_COOKIE);
    if (readCookie(ctx, INVITE_COOKIE)) clearHostCookie(ctx, INVITE_COOKIE);
    setHostCookie(ctx, SESSION_COOKIE, result.token, result.maxAgeSeconds);
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(result.returnTo);
  });

  // Server to server from the provider: no origin or CSRF checks; the token's signature decides.
  mountBackchannelLogout(router, deps.backchannel, deps.bodyLimit);

  router.post(
    '/auth/logout',
    htmlPage,
    requireSameOrigin(deps.publicOrigin),
    requireSession(deps.sessions),
    parseBody(logoutFormSchema, { kinds: ['form'], limit: deps.bodyLimit }),
    deps.csrf.require(),
    async (ctx) => {
      const principal = ctx.state.principal;
      if (!principal?.sessionId) throw new AppError('UNAUTHENTICATED');
      await signOut(deps, principal, requestMeta(ctx));
      clearHostCookie(ctx, SESSION_COOKIE);
      ctx.status = 303;
      ctx.redirect('/sign-in?notice=signed-out');
    },
  );

  return router;
}

/**
 * Reads the callback's parameters. Duplicated parameters are refused by readParams (O2);
 * values must be single bounded strings. Such a refusal is audited like any failed sign-in.
 */
async function readCallback(ctx: AppContext, signIn: SignInService) {
  try {
    const raw = readParams(ctx.querystring);
    return { raw, query: validate(callbackQuerySchema, raw) };
  } catch (error) {
    const reason = error instanceof AppError && error.code === 'PARAMETER_DUPLICATED' ? 'parameter_duplicated' : 'callback_invalid';
    await signIn.recordUnreadableCallback(ctx.params.provider ?? '', reason, requestMeta(ctx));
    throw error;
  }
}
