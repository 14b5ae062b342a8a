import {
  adminUserListSchema,
  adminUserQuerySchema,
  idParamsSchema,
  revokedCountSchema,
  roleChangeSchema,
  userRolesAnswerSchema,
  userStatusAnswerSchema,
} from '@gatehouse/shared';
import Router from '@koa/router';
import { AppError } from '../errors/index.js';
import { type AppState, requestMeta, route, type Step } from '../http/index.js';
import { type CredentialDeps, requireCredential } from '../sessions/index.js';
import type { UserStore } from '../users/index.js';
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

  const auth = { scope: 'admin:users', user: true } as const;

  route(
    router,
    {
      method: 'get',
      path: '/users',
      summary: 'Search users by part of their email or name, status and role.',
      auth,
      query: adminUserQuerySchema,
      response: adminUserListSchema,
    },
    ...admin,
    async ({ query }, ctx) => {
      ctx.set('Cache-Control', 'no-store');
      return deps.admin.search(query);
    },
  );

  route(
    router,
    { method: 'get', path: '/users/:id', summary: 'One user: identities, sessions, recent events.', auth, params: idParamsSchema },
    ...admin,
    async ({ params }, ctx) => {
      ctx.set('Cache-Control', 'no-store');
      return deps.admin.detail(params.id);
    },
  );

  for (const change of ['disable', 'enable', 'ban', 'unban'] as StatusChange[]) {
    route(
      router,
      {
        method: 'post',
        path: `/users/:id/${change}`,
        summary: `${change[0]?.toUpperCase()}${change.slice(1)} the account (admins; not owners, other admins or oneself).`,
        auth,
        params: idParamsSchema,
        response: userStatusAnswerSchema,
      },
      ...admin,
      async ({ user, params }, ctx) => {
        const updated = await deps.admin.changeStatus({ kind: 'user', user }, params.id, change, requestMeta(ctx));
        return { id: updated._id, status: updated.status };
      },
    );
  }

  // Sign out everywhere (also at /api/v1/users/{id}/sessions/revoke-all, for older callers).
  route(
    router,
    {
      method: 'post',
      path: '/users/:id/sessions/revoke-all',
      summary: 'Sign a user out everywhere (same rules as disable).',
      auth,
      params: idParamsSchema,
      response: revokedCountSchema,
    },
    ...admin,
    async ({ user, params }, ctx) => ({ revoked: await deps.admin.revokeAll({ kind: 'user', user }, params.id, requestMeta(ctx)) }),
  );

  // Owners only: see UserDeletion. The audit entries stay; the person's IPs in them become unreadable.
  route(
    router,
    {
      method: 'delete',
      path: '/users/:id',
      summary: 'Delete a user, crypto-shredding their IPs (owners).',
      auth,
      params: idParamsSchema,
      status: 204,
    },
    ...admin,
    async ({ user, params }, ctx) => {
      await deps.deletion.delete({ kind: 'user', user }, params.id, requestMeta(ctx));
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/users/:id/roles',
      summary: 'Grant or take away the admin role (owners).',
      auth,
      params: idParamsSchema,
      body: { schema: roleChangeSchema, kind: 'json', limit: deps.bodyLimit },
      response: userRolesAnswerSchema,
    },
    ...admin,
    async ({ user, params, body }, ctx) => {
      const updated = await deps.admin.changeRoles({ kind: 'user', user }, params.id, body, requestMeta(ctx));
      return { id: updated._id, roles: updated.roles };
    },
  );

  return router;
}
