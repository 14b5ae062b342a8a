import { activityQuerySchema, type CreateApiToken, createApiTokenSchema, opaqueIdSchema, sessionListQuerySchema } from '@gatehouse/shared';
import Router from '@koa/router';
import type { z } from 'zod';
import type { AuditLog } from '../audit/index.js';
import type { RequestMeta } from '../context.js';
import { AppError } from '../errors/index.js';
import {
  type AppContext,
  type AppState,
  type CredentialDeps,
  clearHostCookie,
  parseBody,
  parseQuery,
  requestMeta,
  requireCredential,
  SESSION_COOKIE,
  type Step,
  validate,
} from '../http/index.js';
import { signOut } from '../oidc/sign-out.js';
import type { Principal, RevocationState } from '../tokens/index.js';
import type { User, UserCache, UserStore } from '../users/index.js';

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
  const json = (schema: z.ZodType) => parseBody(schema, { kinds: ['json'], limit: deps.bodyLimit });
  const loadUser: Step = async (ctx, next) => {
    ctx.state.user = await currentUser(deps.users, ctx);
    await next();
  };

  const loadCachedUser: Step = async (ctx, next) => {
    const userId = principalOf(ctx).userId;
    const user = deps.userCache ? await deps.userCache.get(userId, () => deps.users.findById(userId)) : await deps.users.findById(userId);
    if (!user) throw new AppError('TOKEN_INVALID');
    ctx.state.user = user;
    await next();
  };

  router.get('/api/v1/me', requireCredential(deps, { scope: 'profile:read', cookie: true }), loadCachedUser, (ctx) => {
    const user = ctx.state.user as User;
    ctx.body = { id: user._id, name: user.name, email: user.email ?? null, roles: user.roles, status: user.status };
  });

  router.get(
    '/api/v1/me/activity',
    requireCredential(deps, { scope: 'activity:read', cookie: true }),
    parseQuery(activityQuerySchema),
    loadUser,
    async (ctx) => {
      const { limit } = ctx.state.query as z.infer<typeof activityQuerySchema>;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { activity: await deps.audit.recentFor(ctx.state.user as User, limit) };
    },
  );

  router.get('/api/v1/me/sessions', read, parseQuery(sessionListQuerySchema), loadUser, async (ctx) => {
    const query = ctx.state.query as z.infer<typeof sessionListQuerySchema>;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.sessions.listForUser(ctx.state.user as User, principalOf(ctx).sessionId, query.limit, query.cursor);
  });

  router.delete('/api/v1/me/sessions/:id', revoke, async (ctx) => {
    const principal = principalOf(ctx);
    const id = validate(opaqueIdSchema, ctx.params.id);
    const record = await deps.sessions.store.findById(id);
    if (!record || record.userId !== principal.userId || !(await deps.sessions.revoke(id, principal.userId, 'user'))) {
      throw new AppError('SESSION_NOT_FOUND');
    }
    await audit(deps, ctx, record.kind === 'api' ? 'api_token.revoked' : 'session.revoked', `session:${id}`, { kind: record.kind });
    ctx.status = 204;
  });

  router.post('/api/v1/me/sessions/revoke-others', revoke, async (ctx) => {
    const principal = principalOf(ctx);
    const count = await deps.sessions.revokeOthers(principal.userId, principal.sessionId, 'user_revoked_others');
    await audit(deps, ctx, 'session.revoked_all', `user:${principal.userId}`, { count, reason: 'others' });
    ctx.body = { revoked: count };
  });

  router.post('/api/v1/me/api-tokens', revoke, requireBrowserSession, json(createApiTokenSchema), loadUser, async (ctx) => {
    const input = ctx.state.body as CreateApiToken;
    if (input.expiresInDays > deps.apiTokenMaxDays) {
      throw new AppError('VALIDATION_FAILED', { issues: [{ path: 'expiresInDays', message: `At most ${deps.apiTokenMaxDays} days.` }] });
    }
    const { record, token } = await deps.sessions.createApiToken(ctx.state.user as User, requestMeta(ctx), input);
    await audit(deps, ctx, 'api_token.created', `session:${record._id}`, { kind: 'api' });
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { id: record._id, token, expiresAt: record.absoluteExpiresAt.toISOString(), scopes: input.scopes };
  });

  router.post(
    '/api/v1/login/logout',
    requireCredential(deps, { scope: 'sessions:revoke', cookie: true }),
    requireBrowserSession,
    async (ctx) => {
      await signOut(deps, principalOf(ctx), requestMeta(ctx));
      clearHostCookie(ctx, SESSION_COOKIE);
      ctx.status = 204;
    },
  );

  // An admin's "sign out everywhere" for someone else, under the same rules as disable and ban
  // (no owners, no other admins unless an owner asks, never oneself): see AdminService.revokeAll.
  router.post('/api/v1/users/:id/sessions/revoke-all', revoke, loadUser, async (ctx) => {
    const targetId = validate(opaqueIdSchema, ctx.params.id);
    ctx.body = { revoked: await deps.adminRevokeAll(ctx.state.user as User, targetId, requestMeta(ctx)) };
  });

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

async function currentUser(users: UserStore, ctx: AppContext): Promise<User> {
  const user = await users.findById(principalOf(ctx).userId);
  if (!user) throw new AppError('TOKEN_INVALID');
  return user;
}

function audit(
  deps: SessionRouteDeps,
  ctx: AppContext,
  action: 'session.revoked' | 'session.revoked_all' | 'api_token.created' | 'api_token.revoked',
  target: string,
  details: Record<string, string | number>,
): Promise<void> {
  const principal = principalOf(ctx);
  const user = ctx.state.user as User | undefined;
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
