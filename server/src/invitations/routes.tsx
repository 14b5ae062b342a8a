/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { idParamsSchema, invitationListSchema, invitationTokenSchema, inviteSchema, issuedInvitationSchema } from '@gatehouse/shared';
import Router from '@koa/router';
import { AppError } from '../errors/index.js';
import {
  type AppState,
  backTo,
  clearHostCookie,
  htmlPage,
  INVITE_COOKIE,
  readCookie,
  readForm,
  readParams,
  requestMeta,
  requireSameOrigin,
  route,
  type Step,
  sendHtml,
  setHostCookie,
} from '../http/index.js';
import { type CredentialDeps, loadUser, requireCredential } from '../sessions/index.js';
import type { UserStore } from '../users/index.js';
import { renderPage } from '../web/index.js';
import { InviteAcceptPage, InviteLandingPage } from './pages.js';
import type { InvitationService } from './service.js';

/** The invitation cookie outlives neither the invitation nor an hour of dawdling. */
const INVITE_COOKIE_SECONDS = 3600;

export interface InvitationRouteDeps extends CredentialDeps {
  invitations: InvitationService;
  users: UserStore;
  providers: () => { id: string; name: string }[];
  passwordAllowed: boolean;
  bodyLimit: number;
  signInLimit: Step;
}

/**
 * The admin API for invitations (`/api/v1/admin/invitations`), and the pages an invitation link
 * opens: `/invite` takes the token from the fragment, keeps it in an HttpOnly cookie and shows
 * the ways in; the SSO callback and `/invite/password` use it up (docs/invitations.md).
 */
export function invitationRoutes(deps: InvitationRouteDeps) {
  const router = new Router<AppState>();
  const admin = [requireCredential(deps, { scope: 'admin:users', cookie: true }), loadUser(deps.users)];
  const auth = { scope: 'admin:users', user: true } as const;

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/invitations',
      summary: 'Invite an email address; the link is mailed, or returned when mail is not sent.',
      auth,
      body: { schema: inviteSchema, kind: 'json', limit: deps.bodyLimit },
      response: issuedInvitationSchema,
      status: 201,
    },
    ...admin,
    async ({ user, body }, ctx) => {
      ctx.set('Cache-Control', 'no-store');
      return deps.invitations.invite({ kind: 'user', user }, body.email, requestMeta(ctx));
    },
  );

  route(
    router,
    { method: 'get', path: '/api/v1/admin/invitations', summary: 'Invitations, newest first.', auth, response: invitationListSchema },
    ...admin,
    async ({ user }, ctx) => {
      ctx.set('Cache-Control', 'no-store');
      if (!user.roles.some((role) => role === 'admin' || role === 'owner')) return { invitations: [] };
      return { invitations: await deps.invitations.list(100) };
    },
  );

  route(
    router,
    {
      method: 'delete',
      path: '/api/v1/admin/invitations/:id',
      summary: 'Withdraw an invitation that has not been used.',
      auth,
      params: idParamsSchema,
      status: 204,
    },
    ...admin,
    async ({ user, params }, ctx) => {
      await deps.invitations.revoke({ kind: 'user', user }, params.id, requestMeta(ctx));
    },
  );

  router.get('/invite', htmlPage, (ctx) => {
    sendHtml(ctx, renderPage(<InviteLandingPage errorCode={readParams(ctx.querystring).error ?? null} />));
  });

  router.post('/invite', htmlPage, requireSameOrigin(deps.publicOrigin), deps.signInLimit, async (ctx) => {
    try {
      const { token } = await readForm(ctx, invitationTokenSchema, deps.bodyLimit);
      const invitation = await deps.invitations.open(token, requestMeta(ctx));
      const left = Math.floor((invitation.expiresAt.getTime() - Date.now()) / 1000);
      setHostCookie(ctx, INVITE_COOKIE, token, Math.max(1, Math.min(INVITE_COOKIE_SECONDS, left)));
      ctx.status = 303;
      ctx.redirect('/invite/accept');
    } catch (error) {
      backTo(ctx, '/invite', error);
    }
  });

  router.get('/invite/accept', htmlPage, deps.signInLimit, async (ctx) => {
    const token = readCookie(ctx, INVITE_COOKIE);
    try {
      if (!token) throw new AppError('INVITATION_INVALID');
      const invitation = await deps.invitations.open(token, requestMeta(ctx));
      const page = (
        <InviteAcceptPage
          email={invitation.email}
          expiresAt={invitation.expiresAt}
          providers={deps.providers()}
          passwordAllowed={deps.passwordAllowed}
          errorCode={readParams(ctx.querystring).error ?? null}
        />
      );
      sendHtml(ctx, renderPage(page));
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      clearHostCookie(ctx, INVITE_COOKIE);
      ctx.status = 303;
      ctx.redirect('/invite?error=INVITATION_INVALID');
    }
  });

  return router;
}
