/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { fingerprintPhrase, formatUserCode, normalizeUserCode, pairDecisionSchema, pairLookupSchema } from '@gatehouse/shared';
import Router from '@koa/router';
import type { z } from 'zod';
import { AppError } from '../errors/index.js';
import {
  type AppContext,
  type AppState,
  type CsrfTokens,
  htmlPage,
  PARSE,
  readParams,
  requestMeta,
  requireSameOrigin,
  route,
  sendHtml,
} from '../http/index.js';
import { optionalSession, requireSession, type SessionService } from '../sessions/index.js';
import type { User, UserStore } from '../users/index.js';
import { PairCodePage, PairConfirmPage, PairOutcomePage, renderPage } from '../web/index.js';
import type { CodeAttempts } from './attempts.js';
import type { PairingService, PairingView } from './service.js';

export interface PairRouteDeps {
  pairing: PairingService;
  attempts: CodeAttempts;
  sessions: SessionService;
  users: UserStore;
  csrf: CsrfTokens;
  publicOrigin: string;
  bodyLimit: number;
}

/**
 * The pair page: a signed-in person types the code their device shows, checks what is asking
 * and the fingerprint phrase, and approves or declines. Forms are same-origin and CSRF-bound;
 * every wrong code costs a point from the per-address, per-user and global budgets.
 */
export function pairRoutes(deps: PairRouteDeps) {
  const router = new Router<AppState>();
  const form = <S extends z.ZodType>(schema: S) => ({ schema, kind: 'form' as const, limit: deps.bodyLimit });
  const guarded = [htmlPage, requireSameOrigin(deps.publicOrigin), requireSession(deps.sessions)] as const;

  const signedInUser = async (ctx: AppContext): Promise<User> => {
    const user = ctx.state.principal && (await deps.users.findById(ctx.state.principal.userId));
    if (!user) throw new AppError('UNAUTHENTICATED');
    return user;
  };
  const csrfFor = (ctx: AppContext) => deps.csrf.forSession(ctx.state.principal?.sessionId ?? '');

  router.get('/pair', htmlPage, optionalSession(deps.sessions), (ctx) => {
    const typed = (readParams(ctx.querystring).code ?? '').slice(0, 32);
    if (!ctx.state.principal) {
      const back = `/pair${typed ? `?code=${encodeURIComponent(typed)}` : ''}`;
      return ctx.redirect(`/sign-in?return_to=${encodeURIComponent(back)}`);
    }
    const code = normalizeUserCode(typed);
    sendHtml(ctx, renderPage(<PairCodePage code={code ? formatUserCode(code) : ''} csrfToken={csrfFor(ctx)} error={null} />));
  });

  route(
    router,
    { method: 'post', path: '/pair', summary: 'The pair page: look up a typed code.', hidden: true, body: form(pairLookupSchema) },
    ...guarded,
    PARSE,
    deps.csrf.require(),
    async ({ body: { user_code: typed } }, ctx) => {
      const user = await signedInUser(ctx);
      const meta = requestMeta(ctx);
      await deps.attempts.take(meta.ip, user._id);
      const view = await deps.pairing.findPending(typed, meta.ip);
      if (!view) {
        await deps.pairing.recordFailedCode(user, meta, 'code_not_usable');
        const error = 'That code is not valid, has expired or was already used. Check the code on your device and try again.';
        return sendHtml(ctx, renderPage(<PairCodePage code="" csrfToken={csrfFor(ctx)} error={error} />), 400);
      }
      await deps.attempts.refund(meta.ip, user._id);
      sendHtml(ctx, renderPage(<PairConfirmPage request={describe(view)} csrfToken={csrfFor(ctx)} />));
    },
  );

  route(
    router,
    { method: 'post', path: '/pair/decide', summary: 'The pair page: approve or decline.', hidden: true, body: form(pairDecisionSchema) },
    ...guarded,
    PARSE,
    deps.csrf.require(),
    async ({ body: { user_code: typed, decision } }, ctx) => {
      const user = await signedInUser(ctx);
      const meta = requestMeta(ctx);
      await deps.attempts.take(meta.ip, user._id);
      const decided = await deps.pairing.decide(typed, user, decision, meta, ctx.state.principal?.sessionId ?? null);
      if (!decided) {
        await deps.pairing.recordFailedCode(user, meta, 'code_not_usable');
        return sendHtml(ctx, renderPage(<PairOutcomePage outcome="invalid" />), 400);
      }
      await deps.attempts.refund(meta.ip, user._id);
      sendHtml(ctx, renderPage(<PairOutcomePage outcome={decided.state === 'approved' ? 'approved' : 'declined'} />));
    },
  );

  return router;
}

function describe(view: PairingView) {
  return {
    userCode: formatUserCode(normalizeUserCode(view.typedCode) ?? ''),
    client: view.client.name,
    device: view.record.device,
    network: view.record.network,
    sameNetwork: view.sameNetwork,
    startedAt: view.record.createdAt.toISOString(),
    phrase: fingerprintPhrase(view.record.jkt),
  };
}
