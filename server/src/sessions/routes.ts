import {
  accountViewSchema,
  activityListSchema,
  activityQuerySchema,
  createApiTokenSchema,
  createdApiTokenSchema,
  idParamsSchema,
  revokedCountSchema,
  sessionListQuerySchema,
  sessionListSchema,
} from '@gatehouse/shared';
import Router from '@koa/router';
import type { AuditLog } from '../audit/index.js';
import type { RequestMeta } from '../context.js';
import { AppError } from '../errors/index.js';
import { type AppContext, type AppState, clearHostCookie, requestMeta, route, SESSION_COOKIE, type Step } from '../http/index.js';
import type { Principal, RevocationState } from '../tokens/index.js';
import type { User, UserCache, UserStore } from '../users/index.js';
import { type CredentialDeps, loadUser, requireCredential } from './authenticate.js';
import { signOut } from './sign-out.js';

export interface SessionRouteDeps extends CredentialDeps {
  users: UserStore;
  /** Serves `GET /api/v1/me` without a MongoDB read (users/cache.ts). */
  userCache?: UserCache;
  audit: AuditLog;
  revocation: RevocationState;
  bodyLimit: number;
  apiTokenMaxDays: number;
  adminRevokeAll(actor: User, targetId: string, meta: RequestMeta): Promise<number>;
}

/** The signed-in user's sessions and API tokens, and an admin's revoke-all (JSON API). */
export function sessionRoutes(deps: SessionRouteDeps) {
  const router = new Router<AppState>();
  const read = requireCredential(deps, { scope: 'sessions:read', cookie: true });
  const revoke = requireCredential(deps, { scope: 'sessions:revoke', cookie: true });
  const withUser = loadUser(deps.users);

  // The profile and the session list read the user from this instance's user cache (cleared over
  // the invalidation channel on every change); whether the credential is still good was just
  // asked of Redis.
  const loadCachedUser: Step = async (ctx, next) => {
    const userId = principalOf(ctx).userId;
    const user = deps.userCache ? await deps.userCache.get(userId, () => deps.users.findById(userId)) : await deps.users.findById(userId);
    if (!user) throw new AppError('TOKEN_INVALID');
    ctx.state.user = user;
    await next();
  };

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/me',
      summary: 'Who the credential acts for.',
      auth: { scope: 'profile:read', user: true },
      response: accountViewSchema,
    },
    requireCredential(deps, { scope: 'profile:read', cookie: true }),
    loadCachedUser,
    ({ user }) => ({ id: user._id, name: user.name, email: user.email ?? null, roles: user.roles, status: user.status }),
  );

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/me/activity',
      summary: 'Your recent security activity, newest first.',
      auth: { scope: 'activity:read', user: true },
      query: activityQuerySchema,
      response: activityListSchema,
    },
    requireCredential(deps, { scope: 'activity:read', cookie: true }),
    withUser,
    async ({ user, query }, ctx) => {
      ctx.set('Cache-Control', 'no-store');
      return { activity: await deps.audit.recentFor(user, query.limit) };
    },
  );

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/me/sessions',
      summary: 'The active sessions of every kind, newest first, a page at a time.',
      auth: { scope: 'sessions:read', user: true },
      query: sessionListQuerySchema,
      response: sessionListSchema,
    },
    read,
    loadCachedUser,
    async ({ user, principal, query }, ctx) => {
      ctx.set('Cache-Control', 'no-store');
      return deps.sessions.listForUser(user, principal.sessionId, query.limit, query.cursor);
    },
  );

  route(
    router,
    {
      method: 'delete',
      path: '/api/v1/me/sessions/:id',
      summary: 'End one of your sessions.',
      auth: { scope: 'sessions:revoke' },
      params: idParamsSchema,
      status: 204,
    },
    revoke,
    async ({ principal, params: { id } }, ctx) => {
      const record = await deps.sessions.findById(id);
      if (!record || record.userId !== principal.userId || !(await deps.sessions.revoke(id, principal.userId, 'user'))) {
        throw new AppError('SESSION_NOT_FOUND');
      }
      // The ended session's own device (or token name): the entry's User-Agent is the revoker's.
      await audit(deps, ctx, record.kind === 'api' ? 'api_token.revoked' : 'session.revoked', `session:${id}`, {
        kind: record.kind,
        device: record.device,
      });
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/me/sessions/revoke-others',
      summary: 'End every session but the current one.',
      auth: { scope: 'sessions:revoke' },
      response: revokedCountSchema,
    },
    revoke,
    async ({ principal }, ctx) => {
      const count = await deps.sessions.revokeOthers(principal.userId, principal.sessionId, 'user_revoked_others');
      await audit(deps, ctx, 'session.revoked_all', `user:${principal.userId}`, { count, reason: 'others' });
      return { revoked: count };
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/me/api-tokens',
      summary: 'Create a personal API token (shown once; browser session only).',
      auth: { scope: 'sessions:revoke', browserOnly: true, user: true },
      body: { schema: createApiTokenSchema, kind: 'json', limit: deps.bodyLimit },
      response: createdApiTokenSchema,
      status: 201,
    },
    revoke,
    requireBrowserSession,
    withUser,
    async ({ user, body: input }, ctx) => {
      if (input.expiresInDays > deps.apiTokenMaxDays) {
        throw new AppError('VALIDATION_FAILED', { issues: [{ path: 'expiresInDays', message: `At most ${deps.apiTokenMaxDays} days.` }] });
      }
      const { record, token } = await deps.sessions.createApiToken(user, requestMeta(ctx), input);
      await audit(deps, ctx, 'api_token.created', `session:${record._id}`, { kind: 'api' });
      ctx.set('Cache-Control', 'no-store');
      return { id: record._id, token, expiresAt: record.absoluteExpiresAt.toISOString(), scopes: input.scopes };
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/login/logout',
      summary: 'Sign this browser session out.',
      auth: { scope: 'sessions:revoke', browserOnly: true },
      status: 204,
    },
    requireCredential(deps, { scope: 'sessions:revoke', cookie: true }),
    requireBrowserSession,
    async ({ principal }, ctx) => {
      await signOut(deps, principal, requestMeta(ctx));
      clearHostCookie(ctx, SESSION_COOKIE);
    },
  );

  // An admin's "sign out everywhere" for someone else, under the same rules as disable and ban
  // (no owners, no other admins unless an owner asks, never oneself): see AdminService.revokeAll.
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/users/:id/sessions/revoke-all',
      summary: 'Sign a user out everywhere (admins; same rules as disable).',
      auth: { scope: 'sessions:revoke', user: true },
      params: idParamsSchema,
      response: revokedCountSchema,
    },
    revoke,
    withUser,
    async ({ user, params }, ctx) => ({ revoked: await deps.adminRevokeAll(user, params.id, requestMeta(ctx)) }),
  );

  return router;
}

/** Routes only a person at the browser may use (not an API token acting on their behalf). */
const requireBrowserSession: Step = async (ctx, next) => {
  if (principalOf(ctx).type !== 'session') throw new AppError('FORBIDDEN');
  await next();
};

function principalOf(ctx: AppContext): Principal {
  const principal = ctx.state.principal;
  if (!principal) throw new AppError('UNAUTHENTICATED');
  return principal;
}

function audit(
  deps: SessionRouteDeps,
  ctx: AppContext,
  action: 'session.revoked' | 'session.revoked_all' | 'api_token.created' | 'api_token.revoked',
  target: string,
  details: Record<string, string | number>,
): Promise<void> {
  const principal = principalOf(ctx);
  const user = ctx.state.user;
  return deps.audit.record(
    {
      action,
      outcome: 'success',
      actor: `user:${principal.userId}`,
      target,
      details,
      ...(user ? { ipOwner: { userId: user._id, keySalt: user.keySalt } } : {}),
    },
    requestMeta(ctx),
  );
}
