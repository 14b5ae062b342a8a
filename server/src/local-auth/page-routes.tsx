/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { invitationPasswordSchema, passwordResetSchema, passwordSignInSchema, safeReturnPath, totpStepSchema } from '@gatehouse/shared';
import Router from '@koa/router';
import type { z } from 'zod';
import { randomId } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import {
  type AppState,
  backTo,
  clearHostCookie,
  htmlPage,
  INVITE_COOKIE,
  LOGIN_COOKIE,
  parseBody,
  readCookie,
  readForm,
  readParams,
  requestMeta,
  requireSameOrigin,
  SESSION_COOKIE,
  type Step,
  sendHtml,
  setHostCookie,
} from '../http/index.js';
import type { InvitationService } from '../invitations/index.js';
import type { SessionService } from '../sessions/index.js';
import { renderPage } from '../web/index.js';
import { RecoveryCodesPage, ResetPasswordPage, TotpPage } from './pages.js';
import type { PasswordResets } from './reset.js';
import { type LocalAuthService, PENDING_2FA_SECONDS } from './service.js';

/** The pending 2FA entry's token, kept by the browser between the two steps (HttpOnly). */
export const PENDING_COOKIE = '__Host-gatehouse-2fa';
const codeFormSchema = totpStepSchema.pick({ code: true });

/**
 * The browser's password sign-in: plain forms and redirects (no script), so the strict CSP
 * holds. Errors come back as the sign-in page's plain-words banner.
 */
export function localAuthPageRoutes(deps: {
  local: LocalAuthService;
  resets: PasswordResets;
  invitations: InvitationService;
  sessions: SessionService;
  publicOrigin: string;
  bodyLimit: number;
  signInLimit: Step;
  enabled: boolean;
}) {
  const router = new Router<AppState>();
  const form = (schema: z.ZodType) => parseBody(schema, { kinds: ['form'], limit: deps.bodyLimit });
  const steps = [htmlPage, requireSameOrigin(deps.publicOrigin), deps.signInLimit];
  const enabled: Step = async (_ctx, next) => {
    if (!deps.enabled) throw new AppError('LOCAL_LOGIN_DISABLED');
    await next();
  };

  router.post('/sign-in/password', enabled, ...steps, async (ctx) => {
    let input: z.infer<typeof passwordSignInSchema>;
    try {
      input = await readForm(ctx, passwordSignInSchema, deps.bodyLimit);
    } catch (error) {
      return backTo(ctx, '/sign-in', error);
    }
    const binding = readCookie(ctx, LOGIN_COOKIE) ?? randomId(32);
    try {
      const result = await deps.local.signIn(input.email, input.password, binding, requestMeta(ctx));
      ctx.set('Cache-Control', 'no-store');
      if (result.kind === 'session') {
        setHostCookie(ctx, SESSION_COOKIE, result.session.token, result.session.maxAgeSeconds);
        ctx.status = 303;
        return ctx.redirect(safeReturnPath(input.return_to) ?? '/account');
      }
      setHostCookie(ctx, LOGIN_COOKIE, binding, PENDING_2FA_SECONDS);
      setHostCookie(ctx, PENDING_COOKIE, result.pendingToken, PENDING_2FA_SECONDS);
      ctx.status = 303;
      ctx.redirect('/sign-in/totp');
    } catch (error) {
      backTo(ctx, '/sign-in', error);
    }
  });

  router.get('/sign-in/totp', enabled, htmlPage, async (ctx) => {
    const pending = readCookie(ctx, PENDING_COOKIE);
    if (!pending) return ctx.redirect('/sign-in?error=LOGIN_STATE_INVALID');
    const error = readParams(ctx.querystring).error ?? null;
    let enrol: { secret: string; qrSvg: string } | null = null;
    try {
      enrol = await deps.local.enrolmentForPending(pending, readCookie(ctx, LOGIN_COOKIE));
    } catch (failure) {
      if (!(failure instanceof AppError) || failure.code !== 'LOGIN_STATE_INVALID') throw failure;
    }
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = renderPage(<TotpPage errorCode={error} enrol={enrol} />);
  });

  router.post('/sign-in/totp', enabled, ...steps, form(codeFormSchema), async (ctx) => {
    const pending = readCookie(ctx, PENDING_COOKIE);
    if (!pending) return ctx.redirect('/sign-in?error=LOGIN_STATE_INVALID');
    const { code } = ctx.state.body as z.infer<typeof codeFormSchema>;
    try {
      const result = await deps.local.finishTotp(pending, readCookie(ctx, LOGIN_COOKIE), code, requestMeta(ctx));
      clearHostCookie(ctx, PENDING_COOKIE);
      clearHostCookie(ctx, LOGIN_COOKIE);
      setHostCookie(ctx, SESSION_COOKIE, result.session.token, result.session.maxAgeSeconds);
      ctx.set('Cache-Control', 'no-store');
      if (result.recoveryCodes) {
        ctx.type = 'html';
        ctx.body = renderPage(<RecoveryCodesPage codes={result.recoveryCodes} />);
        return;
      }
      ctx.status = 303;
      ctx.redirect('/account');
    } catch (error) {
      const stateLost = error instanceof AppError && error.code === 'LOGIN_STATE_INVALID';
      backTo(ctx, stateLost ? '/sign-in' : '/sign-in/totp', error);
    }
  });

  router.get('/reset-password', enabled, htmlPage, (ctx) => {
    sendHtml(ctx, renderPage(<ResetPasswordPage errorCode={readParams(ctx.querystring).error ?? null} />));
  });

  router.post('/reset-password', enabled, ...steps, async (ctx) => {
    let token = '';
    try {
      const input = await readForm(ctx, passwordResetSchema, deps.bodyLimit);
      token = input.token;
      await deps.resets.complete(input.token, input.password, requestMeta(ctx));
      ctx.status = 303;
      ctx.redirect('/sign-in?notice=password-set');
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500 || error.status === 429) throw error;
      // A refused password keeps the token in the form; a dead link does not.
      const keep = error.code === 'PASSWORD_REJECTED' ? token : '';
      sendHtml(ctx, renderPage(<ResetPasswordPage errorCode={error.code} token={keep} />), error.status);
    }
  });

  // An invitation accepted with a password (LOCAL_LOGIN=all): the token comes from the cookie
  // /invite set, never from the form.
  router.post('/invite/password', enabled, ...steps, async (ctx) => {
    const token = readCookie(ctx, INVITE_COOKIE);
    try {
      const input = await readForm(ctx, invitationPasswordSchema.omit({ token: true }), deps.bodyLimit);
      const meta = requestMeta(ctx);
      const invitation = await deps.invitations.open(token ?? '', meta);
      const session = await deps.local.createInvited(
        { email: invitation.email, claim: (userId) => deps.invitations.accept(invitation, userId, meta) },
        input.name,
        input.password,
        meta,
      );
      clearHostCookie(ctx, INVITE_COOKIE);
      setHostCookie(ctx, SESSION_COOKIE, session.token, session.maxAgeSeconds);
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 303;
      ctx.redirect('/account');
    } catch (error) {
      backTo(ctx, error instanceof AppError && error.code === 'INVITATION_INVALID' ? '/invite' : '/invite/accept', error);
    }
  });

  return router;
}
