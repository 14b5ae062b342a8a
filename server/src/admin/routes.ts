import { type AdminUserQuery, adminUserQuerySchema, opaqueIdSchema, type RoleChange, roleChangeSchema } from '@gatehouse/shared';
import Router from '@koa/router';
import { AppError } from '../errors/index.js';
import { type AppState, parseBody, parseQuery, requestMeta, type Step, validate } from '../http/index.js';
import { type CredentialDeps, requireCredential } from '../sessions/index.js';
import type { User, UserStore } from '../users/index.js';
import type { UserDeletion } from './deletion.js';
import type { AdminService, StatusChange } from './service.js';

/**
 * The admin API: search users, look at one, and stop or restore an account. Every route needs
 * an admin or owner (browser session, or an API token with the `admin:users` scope); unsafe
 * cookie requests also need the origin check and the CSRF token (requireCredential).
 */
export function adminRoutes(deps: CredentialDeps & { admin: AdminService; deletion: UserDeletion; users: UserStore; bodyLimit: number }) {
  const router = new Router<AppState>({ prefix: '/api/v1/admin' });
  const requireAdmin: Step = async (ctx, next) => {
    const principal = ctx.state.principal;
    const user = principal && (await deps.users.findById(principal.userId));
    if (!user || !(user.roles.includes('admin') || user.roles.includes('owner'))) throw new AppError('FORBIDDEN');
    ctx.state.user = user;
    await next();
  };
  const admin = [requireCredential(deps, { scope: 'admin:users', cookie: true }), requireAdmin];

  router.get('/users', ...admin, parseQuery(adminUserQuerySchema), async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.admin.search(ctx.state.query as AdminUserQuery);
  });

  router.get('/users/:id', ...admin, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.admin.detail(validate(opaqueIdSchema, ctx.params.id));
  });

  for (const change of ['disable', 'enable', 'ban', 'unban'] as StatusChange[]) {
    router.post(`/users/:id/${change}`, ...admin, async (ctx) => {
      const actor = { kind: 'user' as const, user: ctx.state.user as User };
      const updated = await deps.admin.changeStatus(actor, validate(opaqueIdSchema, ctx.params.id), change, requestMeta(ctx));
      ctx.body = { id: updated._id, status: updated.status };
    });
  }

  // Sign out everywhere (also at /api/v1/users/{id}/sessions/revoke-all, for older callers).
  router.post('/users/:id/sessions/revoke-all', ...admin, async (ctx) => {
    const actor = { kind: 'user' as const, user: ctx.state.user as User };
    ctx.body = { revoked: await deps.admin.revokeAll(actor, validate(opaqueIdSchema, ctx.params.id), requestMeta(ctx)) };
  });

  // Owners only: see UserDeletion. The audit entries stay; the person's IPs in them become unreadable.
  router.delete('/users/:id', ...admin, async (ctx) => {
    const actor = { kind: 'user' as const, user: ctx.state.user as User };
    await deps.deletion.delete(actor, validate(opaqueIdSchema, ctx.params.id), requestMeta(ctx));
    ctx.status = 204;
  });

  router.post('/users/:id/roles', ...admin, parseBody(roleChangeSchema, { kinds: ['json'], limit: deps.bodyLimit }), async (ctx) => {
    const actor = { kind: 'user' as const, user: ctx.state.user as User };
    const change = ctx.state.body as RoleChange;
    const updated = await deps.admin.changeRoles(actor, validate(opaqueIdSchema, ctx.params.id), change, requestMeta(ctx));
    ctx.body = { id: updated._id, roles: updated.roles };
  });

  return router;
}
