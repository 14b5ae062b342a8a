/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { readFileSync } from 'node:fs';
import { SCOPES, safeReturnPath } from '@gatehouse/shared';
import Router from '@koa/router';
import type { AuditLog } from '../audit/index.js';
import type { AppError } from '../errors/index.js';
import { type AppContext, type AppState, type CsrfTokens, htmlPage, readParams, sendHtml } from '../http/index.js';
import type { ProviderRegistry } from '../oidc/index.js';
import { optionalSession, type SessionService } from '../sessions/index.js';
import type { User, UserStore } from '../users/index.js';
import { AccountPage } from './account-page.js';
import { ErrorPage } from './error-page.js';
import { renderPage } from './layout.js';
import { SignInPage } from './sign-in-page.js';

const STYLESHEET = readFileSync(new URL('./assets/app.css', import.meta.url), 'utf8');
const ACCOUNT_SCRIPT = readFileSync(new URL('./assets/account.js', import.meta.url), 'utf8');
const LINK_SCRIPT = readFileSync(new URL('./assets/link.js', import.meta.url), 'utf8');
const PAIR_SCRIPT = readFileSync(new URL('./assets/pair.js', import.meta.url), 'utf8');

/** The error page renderer of the error handler, naming whom to contact when SUPPORT_CONTACT is set. */
export function errorPageRenderer(supportContact: string | undefined) {
  return (ctx: AppContext, error: AppError): string =>
    renderPage(<ErrorPage code={error.code} requestId={ctx.state.requestId} supportContact={supportContact} />);
}

/** The sign-in and account pages. */
export function webRoutes(deps: {
  providers: ProviderRegistry;
  sessions: SessionService;
  users: UserStore;
  csrf: CsrfTokens;
  audit: AuditLog;
  /** Renders the password form of the sign-in page when local login is on. */
  passwordForm?: ((returnTo: string | null) => preact.VNode) | undefined;
  /** The account's password and 2FA state, or null when LOCAL_LOGIN gives it no password. */
  localAccount?: (user: User) => Promise<{ password: boolean; totp: boolean; recoveryCodesLeft: number } | null>;
}) {
  const router = new Router<AppState>();

  router.get('/assets/app.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = STYLESHEET;
  });

  for (const [path, script] of [
    ['/assets/account.js', ACCOUNT_SCRIPT],
    ['/assets/link.js', LINK_SCRIPT],
    ['/assets/pair.js', PAIR_SCRIPT],
  ] as const) {
    router.get(path, (ctx) => {
      ctx.type = 'application/javascript';
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = script;
    });
  }

  router.get('/', htmlPage, optionalSession(deps.sessions), (ctx) => {
    ctx.redirect(ctx.state.principal ? '/account' : '/sign-in');
  });

  router.get('/sign-in', htmlPage, (ctx) => {
    const params = readParams(ctx.querystring);
    const providers = deps.providers.list().map(({ id, name }) => ({ id, name }));
    sendHtml(
      ctx,
      renderPage(
        <SignInPage
          providers={providers}
          returnTo={safeReturnPath(params.return_to)}
          errorCode={params.error ?? null}
          notice={params.notice ?? null}
          passwordForm={deps.passwordForm ? deps.passwordForm(safeReturnPath(params.return_to) ?? null) : null}
        />,
      ),
    );
  });

  router.get('/account', htmlPage, optionalSession(deps.sessions), async (ctx) => {
    const principal = ctx.state.principal;
    const user = principal && (await deps.users.findById(principal.userId));
    if (!principal || !user) return ctx.redirect('/sign-in?return_to=%2Faccount');
    const [{ sessions }, identities, session, activity, local] = await Promise.all([
      deps.sessions.listForUser(user, principal.sessionId, 100),
      deps.users.listIdentities(user._id),
      principal.sessionId ? deps.sessions.findById(principal.sessionId) : null,
      deps.audit.recentFor(user, 10),
      deps.localAccount ? deps.localAccount(user) : null,
    ]);
    const used = identities.find((identity) => identity.providerId === session?.providerId) ?? identities[0];
    const provider = used && deps.providers.list().find((candidate) => candidate.id === used.providerId);
    sendHtml(
      ctx,
      renderPage(
        <AccountPage
          user={{
            name: user.name,
            email: user.email ?? null,
            roles: user.roles,
            pendingEmail: user.pendingEmail && user.pendingEmail.expiresAt > new Date() ? user.pendingEmail.email : undefined,
          }}
          emailEditable={identities.length === 0}
          local={local}
          notice={readParams(ctx.querystring).notice ?? null}
          identity={used ? { provider: provider?.name ?? used.providerId, email: used.email } : null}
          sessions={sessions}
          csrfToken={deps.csrf.forSession(principal.sessionId ?? '')}
          // Only scopes this person can use: `admin:users` is for admins and owners.
          scopes={Object.keys(SCOPES).filter(
            (scope) => scope !== 'admin:users' || user.roles.includes('admin') || user.roles.includes('owner'),
          )}
          activity={activity}
        />,
      ),
    );
  });

  return router;
}
