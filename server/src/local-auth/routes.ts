import {
  changePasswordSchema,
  opaqueIdSchema,
  pendingStepSchema as pendingSchema,
  passwordResetSchema as resetSchema,
  safeReturnPath,
  setPasswordSchema,
  passwordSignInSchema as signInSchema,
  totpChangeSchema,
  totpStepSchema,
} from '@gatehouse/shared';
import Router from '@koa/router';
import type { z } from 'zod';
import { randomId } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import { type CredentialDeps, requireCredential } from '../http/authenticate.js';
import { clearHostCookie, LOGIN_COOKIE, readCookie, SESSION_COOKIE, setHostCookie } from '../http/cookies.js';
import { requireSameOrigin } from '../http/origin.js';
import { parseBody, validate } from '../http/parse.js';
import { requestMeta } from '../http/request-context.js';
import type { AppContext, AppState, Step } from '../http/state.js';
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
  router.post('/api/v1/admin/users/:id/password-reset', requireCredential(deps, { scope: 'admin:users', cookie: true }), async (ctx) => {
    const actor = await loadUser(ctx, deps.users);
    const result = await deps.resets.issue({ kind: 'user', user: actor }, validate(opaqueIdSchema, ctx.params.id), requestMeta(ctx));
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 201;
    ctx.body = result.sent ? { sent: true, expiresAt: result.expiresAt } : result;
  });

  router.get('/api/v1/me/local-auth', session, async (ctx) => {
    ctx.body = await deps.local.status(ctx.state.principal?.userId ?? '');
  });

  // "Set a password" for an account that has none: only from a session opened minutes ago.
  router.post('/api/v1/me/password/set', session, browserOnly, json(setPasswordSchema), async (ctx) => {
    const principal = ctx.state.principal;
    const user = principal && (await deps.users.findById(principal.userId));
    if (!principal?.sessionId || !user) throw new AppError('UNAUTHENTICATED');
    const record = await deps.sessions.store.findById(principal.sessionId);
    if (!record || !deps.local.isRecent(record.createdAt, FRESH_SESSION_MS)) throw new AppError('REAUTHENTICATION_REQUIRED');
    if ((await deps.local.status(user._id)).password) throw new AppError('FORBIDDEN');
    await deps.local.setPassword(
      user,
      (ctx.state.body as z.infer<typeof setPasswordSchema>).password,
      requestMeta(ctx),
      `user:${user._id}`,
    );
    ctx.status = 204;
  });

  router.post('/api/v1/me/password', session, browserOnly, json(changePasswordSchema), async (ctx) => {
    const input = ctx.state.body as z.infer<typeof changePasswordSchema>;
    const user = await loadUser(ctx, deps.users);
    const fresh = await deps.local.changePassword(user, input.currentPassword, input.newPassword, requestMeta(ctx));
    setHostCookie(ctx, SESSION_COOKIE, fresh.token, fresh.maxAgeSeconds);
    ctx.status = 204;
  });

  router.post('/api/v1/me/totp/setup', session, browserOnly, async (ctx) => {
    const user = await loadUser(ctx, deps.users);
    if (!(await deps.local.status(user._id)).password) throw new AppError('LOCAL_LOGIN_DISABLED');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.local.beginEnrolment(user);
  });

  router.post('/api/v1/me/totp/enable', session, browserOnly, json(totpChangeSchema), async (ctx) => {
    const input = ctx.state.body as z.infer<typeof totpChangeSchema>;
    const user = await loadUser(ctx, deps.users);
    const recoveryCodes = await deps.local.enableTotp(user, input.password, input.code, requestMeta(ctx));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { recoveryCodes };
  });

  router.post('/api/v1/me/totp/disable', session, browserOnly, json(totpChangeSchema), async (ctx) => {
    const input = ctx.state.body as z.infer<typeof totpChangeSchema>;
    await deps.local.disableTotp(await loadUser(ctx, deps.users), input.password, input.code, requestMeta(ctx));
    ctx.status = 204;
  });

  return router;
}

async function loadUser(ctx: AppContext, users: UserStore) {
  const user = ctx.state.principal && (await users.findById(ctx.state.principal.userId));
  if (!user) throw new AppError('UNAUTHENTICATED');
  return user;
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
