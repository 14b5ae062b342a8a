/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { emailConfirmSchema, profileAnswerSchema, profilePatchSchema } from '@gatehouse/shared';
import Router from '@koa/router';
import { AppError } from '../errors/index.js';
import {
  type AppState,
  backTo,
  htmlPage,
  readForm,
  readParams,
  requestMeta,
  requireSameOrigin,
  route,
  type Step,
  sendHtml,
} from '../http/index.js';
import { type CredentialDeps, loadUser, requireCredential } from '../sessions/index.js';
import type { UserStore } from '../users/index.js';
import { renderPage } from '../web/index.js';
import { ConfirmEmailPage } from './pages.js';
import type { ProfileService } from './service.js';

export interface ProfileRouteDeps extends CredentialDeps {
  profile: ProfileService;
  users: UserStore;
  bodyLimit: number;
  signInLimit: Step;
}

/** `PATCH /api/v1/me` (the person's own profile) and the email confirmation link's page (docs/profile.md). */
export function profileRoutes(deps: ProfileRouteDeps) {
  const router = new Router<AppState>();
  // A browser session only: a scoped API token or a paired extension does not edit the profile.
  const browserOnly: Step = async (ctx, next) => {
    if (ctx.state.principal?.type !== 'session') throw new AppError('FORBIDDEN');
    await next();
  };

  route(
    router,
    {
      method: 'patch',
      path: '/api/v1/me',
      summary: 'Change your display name, or (local accounts) ask to change your email: a confirmation link goes to the new address.',
      auth: { scope: 'sessions:revoke', user: true },
      body: { schema: profilePatchSchema, kind: 'json', limit: deps.bodyLimit },
      response: profileAnswerSchema,
    },
    requireCredential(deps, { scope: 'sessions:revoke', cookie: true }),
    browserOnly,
    loadUser(deps.users),
    async ({ user, body }, ctx) => {
      ctx.set('Cache-Control', 'no-store');
      return deps.profile.update(user, body, requestMeta(ctx));
    },
  );

  router.get('/confirm-email', htmlPage, (ctx) => {
    const params = readParams(ctx.querystring);
    sendHtml(ctx, renderPage(<ConfirmEmailPage errorCode={params.error ?? null} />));
  });

  router.post('/confirm-email', htmlPage, requireSameOrigin(deps.publicOrigin), deps.signInLimit, async (ctx) => {
    try {
      const { token } = await readForm(ctx, emailConfirmSchema, deps.bodyLimit);
      await deps.profile.confirmEmail(token, requestMeta(ctx));
      ctx.status = 303;
      ctx.redirect('/account?notice=email-changed');
    } catch (error) {
      backTo(ctx, '/confirm-email', error);
    }
  });

  return router;
}
