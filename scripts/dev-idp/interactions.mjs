// The dev IdP's interaction routes (oidc-provider leaves login and consent UI to us):
//   GET  /interaction/:uid         login → the form; consent → granted on the spot
//   POST /interaction/:uid/login   check the password, finish the login prompt
//   GET  /interaction/:uid/abort   the user cancels: access_denied back to the client
// Modelled on oidc-provider's example/routes/koa.js, without a router or body parser.
import { checkPassword } from './accounts.mjs';
import { loginPage, renderError } from './pages.mjs';

const ROUTE = /^\/interaction\/([\w-]+)(?:\/(login|abort))?$/;

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw Object.assign(new Error('form too large'), { status: 413 });
  }
  return new URLSearchParams(body);
}

/** Dev IdP: every client is first-party, so consent is granted for exactly what was asked. */
async function grantConsent(provider, ctx, details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const savedId = await grant.save();
  // A new grant is handed over; an existing one was modified in place.
  const consent = grantId ? {} : { grantId: savedId };
  await provider.interactionFinished(ctx.req, ctx.res, { consent }, { mergeWithLastSubmission: true });
}

async function showLoginForm(provider, ctx, details, accounts, { login, error } = {}) {
  const client = await provider.Client.find(details.params.client_id);
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  ctx.body = loginPage({ uid: details.uid, clientName: client?.clientName ?? details.params.client_id, login, error, accounts });
}

/** Koa middleware serving the interaction routes; anything else goes on to oidc-provider. */
export function interactionRoutes(provider, accounts) {
  return async (ctx, next) => {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    try {
      await handle(provider, accounts, ctx, match);
    } catch (err) {
      if (!(err.status < 500)) throw err;
      ctx.status = err.status;
      await renderError(ctx, { error: err.error ?? err.message, error_description: err.error_description });
    }
  };
}

async function handle(provider, accounts, ctx, [, uid, action]) {
  // interactionDetails throws SessionNotFound (400) for a stale or foreign uid/cookie.
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');

  if (!action && ctx.method === 'GET') {
    if (details.prompt.name === 'login') return showLoginForm(provider, ctx, details, accounts);
    if (details.prompt.name === 'consent') return grantConsent(provider, ctx, details);
    ctx.throw(400, `unsupported prompt ${details.prompt.name}`);
  }
  if (action === 'login' && ctx.method === 'POST') {
    if (details.prompt.name !== 'login') ctx.throw(400, 'not expecting a login now');
    const form = await readForm(ctx.req);
    const account = checkPassword(accounts, form.get('login') ?? '', form.get('password') ?? '');
    if (!account) {
      ctx.status = 401;
      return showLoginForm(provider, ctx, details, accounts, {
        login: form.get('login') ?? '',
        error: 'Wrong email or password.',
      });
    }
    const result = { login: { accountId: account.sub } };
    return provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  }
  if (action === 'abort' && ctx.method === 'GET') {
    const result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    return provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  }
  ctx.throw(405);
}
