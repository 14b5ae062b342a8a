import {
  changePasswordSchema,
  idParamsSchema,
  localAuthStatusSchema,
  pendingStepSchema as pendingSchema,
  recoveryCodesSchema,
  resetLinkSchema,
  passwordResetSchema as resetSchema,
  safeReturnPath,
  setPasswordSchema,
  passwordSignInSchema as signInSchema,
  totpChangeSchema,
  totpOfferSchema,
  totpStepSchema,
} from '@gatehouse/shared';
import Router from '@koa/router';
import type { z } from 'zod';
import { randomId } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import {
  type AppContext,
  type AppState,
  clearHostCookie,
  LOGIN_COOKIE,
  parseBody,
  readCookie,
  requestMeta,
  requireSameOrigin,
  route,
  SESSION_COOKIE,
  type Step,
  setHostCookie,
} from '../http/index.js';
import { type CredentialDeps, loadUser, requireCredential } from '../sessions/index.js';
import type { UserStore } from '../users/index.js';
import type { PasswordResets } from './reset.js';
import { type LocalAuthService, PENDING_2FA_SECONDS } from './service.js';

/** How recent a session must be to set a password without the current one (set, not change). */
const FRESH_SESSION_MS = 10 * 60_000;

export interface LocalAuthRouteDeps extends CredentialDeps {
  local: LocalAuthService;
  resets: PasswordResets;
  users: UserStore;
  bodyLimit: number;
  signInLimit: Step;
  localLoginEnabled: boolean;
}

/**
 * Password sign-in (`/auth/password`, JSON) with its TOTP step, and the account's own password
 * and two-factor settings (`/api/v1/me/password`, `/api/v1/me/totp/*`). See docs/local-accounts.md.
 */
export function localAuthRoutes(deps: LocalAuthRouteDeps) {
  const router = new Router<AppState>();
  const json = (schema: z.ZodType) => parseBody(schema, { kinds: ['json'], limit: deps.bodyLimit });
  const sameOrigin = requireSameOrigin(deps.publicOrigin);
  const session = requireCredential(deps, { scope: 'sessions:revoke', cookie: true });
  const browserOnly: Step = async (ctx, next) => {
    if (ctx.state.principal?.type !== 'session') throw new AppError('FORBIDDEN');
    await next();
  };
  const enabled: Step = async (_ctx, next) => {
    if (!deps.localLoginEnabled) throw new AppError('LOCAL_LOGIN_DISABLED');
    await next();
  };

  router.post('/auth/password', enabled, sameOrigin, deps.signInLimit, json(signInSchema), async (ctx) => {
    const input = ctx.state.body as z.infer<typeof signInSchema>;
    const binding = readCookie(ctx, LOGIN_COOKIE) ?? randomId(32);
    const result = await deps.local.signIn(input.email, input.password, binding, requestMeta(ctx));
    ctx.set('Cache-Control', 'no-store');
    if (result.kind === 'session') {
      await endPreviousSession(ctx, deps);
      setHostCookie(ctx, SESSION_COOKIE, result.session.token, result.session.maxAgeSeconds);
      ctx.body = { status: 'signed_in', returnTo: safeReturnPath(input.return_to) ?? '/account' };
      return;
    }
    setHostCookie(ctx, LOGIN_COOKIE, binding, PENDING_2FA_SECONDS);
    ctx.body = { status: result.kind === 'totp' ? 'totp_required' : 'totp_enrolment_required', pending: result.pendingToken };
  });

  // The owner or admin who must turn on 2FA before a session: the secret to add to an app.
  router.post('/auth/password/enrol', enabled, sameOrigin, deps.signInLimit, json(pendingSchema), async (ctx) => {
    const input = ctx.state.body as z.infer<typeof pendingSchema>;
    const offer = await deps.local.enrolmentForPending(input.pending, readCookie(ctx, LOGIN_COOKIE));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = offer;
  });

  router.post('/auth/password/totp', enabled, sameOrigin, deps.signInLimit, json(totpStepSchema), async (ctx) => {
    const input = ctx.state.body as z.infer<typeof totpStepSchema>;
    const result = await deps.local.finishTotp(input.pending, readCookie(ctx, LOGIN_COOKIE), input.code, requestMeta(ctx));
    await endPreviousSession(ctx, deps);
    clearHostCookie(ctx, LOGIN_COOKIE);
    setHostCookie(ctx, SESSION_COOKIE, result.session.token, result.session.maxAgeSeconds);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'signed_in', returnTo: '/account', ...(result.recoveryCodes ? { recoveryCodes: result.recoveryCodes } : {}) };
  });

  // The link's token arrives in the body (the link carries it in the fragment, which never
  // reaches a server log).
  router.post('/auth/password/reset', enabled, sameOrigin, deps.signInLimit, json(resetSchema), async (ctx) => {
    const input = ctx.state.body as z.infer<typeof resetSchema>;
    await deps.resets.complete(input.token, input.password, requestMeta(ctx));
    ctx.status = 204;
  });

  // An admin's reset: the password is gone and every token dead at once; the link is returned
  // when no mail sender is wired (`sent: false`), for the admin to pass on.
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/users/:id/password-reset',
      summary: "Reset a person's password: every token dies, and a single-use link to set a new one is made.",
      auth: { scope: 'admin:users', user: true },
      params: idParamsSchema,
      response: resetLinkSchema,
      status: 201,
    },
    requireCredential(deps, { scope: 'admin:users', cookie: true }),
    loadUser(deps.users),
    async ({ user, params }, ctx) => {
      const result = await deps.resets.issue({ kind: 'user', user }, params.id, requestMeta(ctx));
      ctx.set('Cache-Control', 'no-store');
      return result.sent ? { sent: true, expiresAt: result.expiresAt } : result;
    },
  );

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/me/local-auth',
      summary: 'Whether your account has a password and two-factor authentication.',
      auth: { scope: 'sessions:revoke' },
      response: localAuthStatusSchema,
    },
    session,
    ({ principal }) => deps.local.status(principal.userId),
  );

  // "Set a password" for an account that has none: only from a session opened minutes ago.
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/me/password/set',
      summary: 'Set a first password (from a browser session opened in the last 10 minutes).',
      auth: { scope: 'sessions:revoke', browserOnly: true, user: true },
      body: { schema: setPasswordSchema, kind: 'json', limit: deps.bodyLimit },
      status: 204,
    },
    session,
    browserOnly,
    loadUser(deps.users),
    async ({ principal, user, body }, ctx) => {
      const record = principal.sessionId ? await deps.sessions.findById(principal.sessionId) : null;
      if (!record || !deps.local.isRecent(record.createdAt, FRESH_SESSION_MS)) throw new AppError('REAUTHENTICATION_REQUIRED');
      if ((await deps.local.status(user._id)).password) throw new AppError('FORBIDDEN');
      await deps.local.setPassword(user, body.password, requestMeta(ctx), `user:${user._id}`);
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/me/password',
      summary: 'Change your password (the current one required); every other session and token ends.',
      auth: { scope: 'sessions:revoke', browserOnly: true, user: true },
      body: { schema: changePasswordSchema, kind: 'json', limit: deps.bodyLimit },
      status: 204,
    },
    session,
    browserOnly,
    loadUser(deps.users),
    async ({ user, body }, ctx) => {
      const fresh = await deps.local.changePassword(user, body.currentPassword, body.newPassword, requestMeta(ctx));
      setHostCookie(ctx, SESSION_COOKIE, fresh.token, fresh.maxAgeSeconds);
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/me/totp/setup',
      summary: 'Start turning on two-factor authentication: a new secret and its QR code.',
      auth: { scope: 'sessions:revoke', browserOnly: true, user: true },
      response: totpOfferSchema,
    },
    session,
    browserOnly,
    loadUser(deps.users),
    async ({ user }, ctx) => {
      if (!(await deps.local.status(user._id)).password) throw new AppError('LOCAL_LOGIN_DISABLED');
      ctx.set('Cache-Control', 'no-store');
      return deps.local.beginEnrolment(user);
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/me/totp/enable',
      summary: 'Turn on two-factor authentication (password and a code); answers the recovery codes once.',
      auth: { scope: 'sessions:revoke', browserOnly: true, user: true },
      body: { schema: totpChangeSchema, kind: 'json', limit: deps.bodyLimit },
      response: recoveryCodesSchema,
    },
    session,
    browserOnly,
    loadUser(deps.users),
    async ({ user, body }, ctx) => {
      const recoveryCodes = await deps.local.enableTotp(user, body.password, body.code, requestMeta(ctx));
      ctx.set('Cache-Control', 'no-store');
      return { recoveryCodes };
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/me/totp/disable',
      summary: 'Turn off two-factor authentication (password and a code).',
      auth: { scope: 'sessions:revoke', browserOnly: true, user: true },
      body: { schema: totpChangeSchema, kind: 'json', limit: deps.bodyLimit },
      status: 204,
    },
    session,
    browserOnly,
    loadUser(deps.users),
    async ({ user, body }, ctx) => {
      await deps.local.disableTotp(user, body.password, body.code, requestMeta(ctx));
    },
  );

  return router;
}

/** A fresh sid per sign-in: whatever session this browser had is ended (C9). */
async function endPreviousSession(ctx: AppContext, deps: LocalAuthRouteDeps): Promise<void> {
  const previous = readCookie(ctx, SESSION_COOKIE);
  if (!previous) return;
  await deps.sessions.authenticate(previous).then(
    ({ principal }) => (principal.sessionId ? deps.sessions.revoke(principal.sessionId, principal.userId, 'replaced') : false),
    () => undefined,
  );
}
