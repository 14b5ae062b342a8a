/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { PassThrough } from 'node:stream';
import { idParamsSchema } from '@gatehouse/shared';
import Router from '@koa/router';
import type { z } from 'zod';
import { type AuditLog, exportEntries } from '../../audit/index.js';
import type { Deps } from '../../context.js';
import { AppError } from '../../errors/index.js';
import {
  type AppContext,
  type AppState,
  type CsrfTokens,
  htmlPage,
  IMPERSONATION_COOKIE,
  PARSE,
  readParams,
  requestMeta,
  requireSameOrigin,
  route,
  type Step,
  sendHtml,
  setHostCookie,
} from '../../http/index.js';
import type { ImpersonationService } from '../../impersonation/index.js';
import type { InvitationService } from '../../invitations/index.js';
import type { PasswordResets } from '../../local-auth/index.js';
import { optionalSession, requireSession, type SessionService } from '../../sessions/index.js';
import { KeyAdmin, type Keyring } from '../../tokens/index.js';
import type { User, UserStore } from '../../users/index.js';
import { renderPage } from '../../web/index.js';
import type { Actor, AdminService } from '../service.js';
import { ACTION_TEXT, explainRefusal, offeredActions, statusChangeOf } from './actions.js';
import { type AuditFilterText, AuditPage } from './audit-page.js';
import { ConfirmPage, type Notice } from './frame.js';
import { InvitationsPage, type UnsentLink } from './invitations-page.js';
import { KeysPage } from './keys-page.js';
import {
  consoleActionBodySchema,
  consoleActionQuerySchema,
  consoleAuditQuerySchema,
  consoleCsrfBodySchema,
  consoleExportQuerySchema,
  consoleImpersonateBodySchema,
  consoleInvitationsQuerySchema,
  consoleInviteBodySchema,
  consoleKeyActionBodySchema,
  consoleKeyActionQuerySchema,
  consoleKeysPageQuerySchema,
  consoleUserPageQuerySchema,
  consoleUserQuerySchema,
  type UserAction,
} from './schemas.js';
import { UserPage } from './user-page.js';
import { UsersPage } from './users-page.js';

export interface ConsoleDeps {
  deps: Deps;
  admin: AdminService;
  users: UserStore;
  sessions: SessionService;
  csrf: CsrfTokens;
  audit: AuditLog;
  keyring: Keyring;
  invitations: InvitationService;
  impersonation: ImpersonationService;
  resets: PasswordResets;
  /** Whether LOCAL_LOGIN lets this person have a password at all. */
  passwordAllowed: (user: User) => boolean;
  publicOrigin: string;
  bodyLimit: number;
}

/** Post/redirect/get: a done action lands back on a page that says so. */
function seeOther(ctx: AppContext, location: string) {
  ctx.redirect(location);
  ctx.status = 303;
}

/**
 * The admin console: server-rendered pages over AdminService, the audit log and the keyring.
 * Pages need a browser session of an admin or owner (signed out: to sign-in and back). GET
 * never changes anything; every change is a confirmation page first, then a same-origin POST
 * carrying the session's CSRF token, and AdminService applies the same rules as the API.
 */
export function adminConsoleRoutes(deps: ConsoleDeps) {
  const router = new Router<AppState>();
  const keys = new KeyAdmin(deps.deps, deps.audit, deps.keyring);
  const form = <S extends z.ZodType>(schema: S) => ({ schema, kind: 'form' as const, limit: deps.bodyLimit });

  /** Pages: signed out → sign-in, then back here; signed in without the role → 403 page. */
  const adminPage = [
    htmlPage,
    optionalSession(deps.sessions),
    (async (ctx, next) => {
      if (!ctx.state.principal) return ctx.redirect(`/sign-in?return_to=${encodeURIComponent(ctx.url)}`);
      return loadAdmin(ctx, next);
    }) as Step,
  ] as const;
  /** Forms: same origin, a live session of an admin; the body's CSRF token is checked after parsing. */
  const adminForm = [htmlPage, requireSameOrigin(deps.publicOrigin), requireSession(deps.sessions), loadAdmin] as const;

  async function loadAdmin(ctx: AppContext, next: () => Promise<unknown>) {
    const principal = ctx.state.principal;
    const user = principal?.type === 'session' ? await deps.users.findById(principal.userId) : null;
    if (!user || !(user.roles.includes('admin') || user.roles.includes('owner'))) throw new AppError('FORBIDDEN');
    ctx.state.user = user;
    await next();
  }
  const requireOwner: Step = async (ctx, next) => {
    if (!viewer(ctx).roles.includes('owner')) throw new AppError('FORBIDDEN');
    await next();
  };
  const csrfFor = (ctx: AppContext) => deps.csrf.forSession(ctx.state.principal?.sessionId ?? '');

  route(
    router,
    { method: 'get', path: '/admin', summary: 'Admin console page.', hidden: true, query: consoleUserQuerySchema },
    ...adminPage,
    async ({ query }, ctx) => {
      const { users, next, prev } = await deps.admin.search(query);
      sendHtml(
        ctx,
        renderPage(<UsersPage filter={query} users={users} next={next} prev={prev} paged={!!(query.cursor || query.before)} />),
      );
    },
  );

  route(
    router,
    {
      method: 'get',
      path: '/admin/users/:id',
      summary: 'Admin console page.',
      hidden: true,
      params: idParamsSchema,
      query: consoleUserPageQuerySchema,
    },
    ...adminPage,
    async ({ params, query: { done } }, ctx) => {
      const text = done === 'impersonation-stopped' ? 'Support view stopped.' : done ? ACTION_TEXT[done].done : null;
      const notice: Notice | null = text ? { kind: 'info', text } : null;
      sendHtml(ctx, await renderUserPage(ctx, params.id, notice));
    },
  );

  route(
    router,
    {
      method: 'get',
      path: '/admin/users/:id/confirm',
      summary: 'Admin console page.',
      hidden: true,
      params: idParamsSchema,
      query: consoleActionQuerySchema,
    },
    ...adminPage,
    async ({ params, query: { action } }, ctx) => {
      const target = await deps.users.findById(params.id);
      if (!target) throw new AppError('NOT_FOUND');
      const text = ACTION_TEXT[action];
      const base = `/admin/users/${encodeURIComponent(target._id)}`;
      sendHtml(
        ctx,
        renderPage(
          <ConfirmPage
            title="Confirm"
            section="users"
            question={text.question(target.name)}
            facts={[
              ['Account', target.name],
              ['Email', target.email ?? 'none'],
              ['Status', target.status],
              ['Roles', target.roles.join(', ')],
            ]}
            consequences={text.consequences}
            action={`${base}/actions`}
            fields={{ csrf: csrfFor(ctx), action }}
            button={`Yes, ${text.button.toLowerCase()}`}
            danger={text.danger}
            cancelHref={base}
          />,
        ),
      );
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/admin/users/:id/actions',
      summary: 'Admin console form.',
      hidden: true,
      params: idParamsSchema,
      body: form(consoleActionBodySchema),
    },
    ...adminForm,
    PARSE,
    deps.csrf.require(),
    async ({ params, body: { action } }, ctx) => {
      const targetId = params.id;
      const me = viewer(ctx);
      try {
        await performUserAction({ kind: 'user', user: me }, targetId, action, ctx);
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500 || error.code === 'NOT_FOUND') throw error;
        // A refusal is part of the page, in words: the account as it is now, with why nothing changed.
        const target = await deps.users.findById(targetId);
        const text = explainRefusal(error.code, action, me, target);
        return sendHtml(ctx, await renderUserPage(ctx, targetId, { kind: 'error', text }), error.status);
      }
      seeOther(ctx, `/admin/users/${encodeURIComponent(targetId)}?done=${action}`);
    },
  );

  route(
    router,
    { method: 'get', path: '/admin/audit', summary: 'Admin console page.', hidden: true, query: consoleAuditQuerySchema },
    ...adminPage,
    async ({ query }, ctx) => {
      const { entries, next, prev } = await deps.audit.search(query);
      const raw = readParams(ctx.querystring);
      const filter: AuditFilterText = {};
      for (const key of ['action', 'outcome', 'actor', 'target', 'since', 'until'] as const) if (raw[key]) filter[key] = raw[key];
      // Names and emails instead of raw ids: one read for every person the page mentions.
      const ids = [
        ...new Set(
          entries
            .flatMap((e) => [e.actor, e.target ?? ''])
            .filter((p) => p.startsWith('user:'))
            .map((p) => p.slice(5)),
        ),
      ];
      const found = ids.length ? await deps.users.page({ _id: { $in: ids } }, ids.length) : [];
      const people = new Map(found.map((user) => [user._id, { name: user.name, email: user.email ?? null }]));
      const page = (
        <AuditPage filter={filter} entries={entries} next={next} prev={prev} paged={!!(query.cursor || query.before)} people={people} />
      );
      sendHtml(ctx, renderPage(page));
    },
  );

  route(
    router,
    { method: 'get', path: '/admin/audit/export', summary: 'Admin console page.', hidden: true, query: consoleExportQuerySchema },
    ...adminPage,
    ({ query: { format, since } }, ctx) => {
      const from = since ?? new Date(0);
      const stamp = deps.deps.clock.now().toISOString().slice(0, 10);
      const body = new PassThrough();
      ctx.type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
      ctx.set('Content-Disposition', `attachment; filename="gatehouse-audit-${stamp}.${format}"`);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = body;
      // The same export as `gatehouse audit export`: IPs stay encrypted, nothing is decrypted.
      // A closed download (client gone, or HEAD) stops the export: throwing here ends the cursor.
      const closed = new Error('download closed');
      const write = (line: string) => {
        if (body.destroyed) throw closed;
        body.write(`${line}\n`);
      };
      exportEntries(deps.deps.db, from, format, write).then(
        () => body.end(),
        (error: unknown) => {
          if (error === closed) return;
          ctx.state.log.error({ err: error }, 'audit.export_failed');
          body.destroy(error instanceof Error ? error : new Error('export failed'));
        },
      );
    },
  );

  route(
    router,
    { method: 'get', path: '/admin/keys', summary: 'Admin console page.', hidden: true, query: consoleKeysPageQuerySchema },
    ...adminPage,
    async ({ query: { done } }, ctx) => {
      sendHtml(ctx, await renderKeysPage(ctx, done ? { kind: 'info', text: KEY_DONE[done] } : null));
    },
  );

  route(
    router,
    { method: 'get', path: '/admin/keys/confirm', summary: 'Admin console page.', hidden: true, query: consoleKeyActionQuerySchema },
    ...adminPage,
    requireOwner,
    async ({ query: { action } }, ctx) => {
      if (keys.staticMode) return sendHtml(ctx, await renderKeysPage(ctx, STATIC_REFUSAL), 409);
      const cutoff = keys.pruneCutoff().toISOString();
      const rotate = action === 'rotate';
      sendHtml(
        ctx,
        renderPage(
          <ConfirmPage
            title="Confirm"
            section="keys"
            question={rotate ? 'Rotate the signing key?' : 'Prune retired signing keys?'}
            facts={[]}
            consequences={
              rotate
                ? [
                    'A new key is made and signs every token from now on, on every server.',
                    'The current key is retired: tokens it signed stay valid until they expire, and it stays in the published key set until it is pruned.',
                  ]
                : [
                    `Retired keys retired before ${cutoff.slice(0, 16).replace('T', ' ')} UTC are deleted and leave the published key set.`,
                    'No token signed with them can still be valid, so nobody is signed out. The active key and younger retired keys stay.',
                  ]
            }
            action="/admin/keys"
            fields={{ csrf: csrfFor(ctx), action }}
            button={rotate ? 'Yes, rotate' : 'Yes, prune'}
            danger={false}
            cancelHref="/admin/keys"
          />,
        ),
      );
    },
  );

  route(
    router,
    { method: 'post', path: '/admin/keys', summary: 'Admin console form.', hidden: true, body: form(consoleKeyActionBodySchema) },
    ...adminForm,
    requireOwner,
    PARSE,
    deps.csrf.require(),
    async ({ body: { action } }, ctx) => {
      if (keys.staticMode) return sendHtml(ctx, await renderKeysPage(ctx, STATIC_REFUSAL), 409);
      const actor = `user:${viewer(ctx)._id}`;
      if (action === 'rotate') {
        await keys.rotate(actor, requestMeta(ctx));
        return seeOther(ctx, '/admin/keys?done=rotated');
      }
      const pruned = await keys.prune(actor, requestMeta(ctx));
      seeOther(ctx, `/admin/keys?done=${pruned.length ? 'pruned' : 'nothing-to-prune'}`);
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/admin/users/:id/password-reset',
      summary: 'Admin console form.',
      hidden: true,
      params: idParamsSchema,
      body: form(consoleCsrfBodySchema),
    },
    ...adminForm,
    PARSE,
    deps.csrf.require(),
    async ({ params }, ctx) => {
      const result = await deps.resets.issue({ kind: 'user', user: viewer(ctx) }, params.id, requestMeta(ctx));
      const notice: Notice = result.sent
        ? { kind: 'info', text: 'Password removed and every session ended. The reset link was mailed.' }
        : { kind: 'info', text: 'Password removed and every session ended. The mail could not be sent: pass the link below on yourself.' };
      sendHtml(ctx, await renderUserPage(ctx, params.id, notice, result.sent ? undefined : result.url));
    },
  );

  // A support view (docs/impersonation.md): the reason is required and audited; the view's
  // cookie is separate from the session's and ends at the latest with it.
  route(
    router,
    {
      method: 'post',
      path: '/admin/users/:id/impersonate',
      summary: 'Admin console form.',
      hidden: true,
      params: idParamsSchema,
      body: form(consoleImpersonateBodySchema),
    },
    ...adminForm,
    PARSE,
    deps.csrf.require(),
    async ({ params, body }, ctx) => {
      const principal = ctx.state.principal;
      if (!principal) throw new AppError('UNAUTHENTICATED');
      const { token, maxAgeSeconds } = await deps.impersonation.start(viewer(ctx), principal, params.id, body, requestMeta(ctx));
      setHostCookie(ctx, IMPERSONATION_COOKIE, token, maxAgeSeconds);
      seeOther(ctx, '/account');
    },
  );

  route(
    router,
    { method: 'get', path: '/admin/invitations', summary: 'Admin console page.', hidden: true, query: consoleInvitationsQuerySchema },
    ...adminPage,
    async ({ query: { done } }, ctx) => {
      const notice: Notice | null = done ? { kind: 'info', text: INVITATION_DONE[done] } : null;
      sendHtml(ctx, await renderInvitationsPage(ctx, notice, null));
    },
  );

  route(
    router,
    { method: 'post', path: '/admin/invitations', summary: 'Admin console form.', hidden: true, body: form(consoleInviteBodySchema) },
    ...adminForm,
    PARSE,
    deps.csrf.require(),
    async ({ body: { email } }, ctx) => {
      try {
        const result = await deps.invitations.invite({ kind: 'user', user: viewer(ctx) }, email, requestMeta(ctx));
        if (result.sent) return seeOther(ctx, '/admin/invitations?done=sent');
        // Stored but not mailed: the link is shown now, once, for the admin to pass on.
        sendHtml(ctx, await renderInvitationsPage(ctx, null, { email: result.invitation.email, url: result.url ?? '' }), 201);
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
        const text = error.code === 'VALIDATION_FAILED' ? 'Enter a valid email address.' : error.message;
        sendHtml(ctx, await renderInvitationsPage(ctx, { kind: 'error', text: `${text} Nothing was sent.` }, null), error.status);
      }
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/admin/invitations/:id/revoke',
      summary: 'Admin console form.',
      hidden: true,
      params: idParamsSchema,
      body: form(consoleCsrfBodySchema),
    },
    ...adminForm,
    PARSE,
    deps.csrf.require(),
    async ({ params }, ctx) => {
      try {
        await deps.invitations.revoke({ kind: 'user', user: viewer(ctx) }, params.id, requestMeta(ctx));
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500 || error.code === 'NOT_FOUND') throw error;
        const notice: Notice = { kind: 'error', text: 'This invitation had already been used or withdrawn. Nothing was changed.' };
        return sendHtml(ctx, await renderInvitationsPage(ctx, notice, null), error.status);
      }
      seeOther(ctx, '/admin/invitations?done=withdrawn');
    },
  );

  async function renderInvitationsPage(ctx: AppContext, notice: Notice | null, unsent: UnsentLink | null): Promise<string> {
    const invitations = await deps.invitations.list(100);
    return renderPage(<InvitationsPage invitations={invitations} csrf={csrfFor(ctx)} notice={notice} unsent={unsent} />);
  }

  async function performUserAction(actor: Actor, targetId: string, action: UserAction, ctx: AppContext): Promise<void> {
    const meta = requestMeta(ctx);
    const change = statusChangeOf(action);
    if (change) await deps.admin.changeStatus(actor, targetId, change, meta);
    else if (action === 'revoke-all') await deps.admin.revokeAll(actor, targetId, meta);
    else await deps.admin.changeRoles(actor, targetId, { admin: action === 'grant-admin' }, meta);
  }

  async function renderUserPage(ctx: AppContext, userId: string, notice: Notice | null, unsentLink?: string): Promise<string> {
    const detail = await deps.admin.detail(userId);
    const me = viewer(ctx);
    const actions = offeredActions({ ...detail.user, _id: detail.user.id }, me);
    const target = await deps.users.findById(userId);
    const supportAccess = target && deps.impersonation.allowed(me, target) ? { csrf: csrfFor(ctx) } : null;
    // The same rules as PasswordResets.issue: never oneself or an owner; another admin only for an owner.
    const resettable =
      target?.email &&
      deps.passwordAllowed(target) &&
      target._id !== me._id &&
      !target.roles.includes('owner') &&
      (!target.roles.includes('admin') || me.roles.includes('owner'));
    const passwordReset = resettable ? { csrf: csrfFor(ctx), ...(unsentLink ? { unsentLink } : {}) } : null;
    return renderPage(
      <UserPage detail={detail} actions={actions} notice={notice} supportAccess={supportAccess} passwordReset={passwordReset} />,
    );
  }

  async function renderKeysPage(ctx: AppContext, notice: Notice | null): Promise<string> {
    const rows = await keys.list();
    const isOwner = viewer(ctx).roles.includes('owner');
    const cutoff = keys.pruneCutoff().toISOString();
    return renderPage(<KeysPage staticMode={keys.staticMode} keys={rows} isOwner={isOwner} pruneCutoff={cutoff} notice={notice} />);
  }

  return router;
}

const KEY_DONE = {
  rotated: 'Key rotated. The new key signs from now on; the previous one stays trusted until it is pruned.',
  pruned: 'Retired keys pruned.',
  'nothing-to-prune': 'Nothing to prune: no retired key is old enough yet.',
} as const;

const INVITATION_DONE = {
  sent: 'Invitation sent. The link in the mail works once.',
  withdrawn: 'Invitation withdrawn: its link no longer works.',
} as const;

const STATIC_REFUSAL: Notice = { kind: 'error', text: 'SECRET_KEY is set: rotation and pruning are disabled. Nothing was changed.' };

function viewer(ctx: AppContext): User {
  const user = ctx.state.user;
  if (!user) throw new AppError('FORBIDDEN');
  return user;
}
