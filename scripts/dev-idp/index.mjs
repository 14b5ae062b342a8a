// The development identity provider: oidc-provider v9 on http://localhost, with two demo
// users, its own sign-in form and auto-consent. Development and tests only.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { accountFinder, DEMO_ACCOUNTS } from './accounts.mjs';
import { interactionRoutes } from './interactions.mjs';
import { createMemoryAdapter } from './memory-adapter.mjs';
import { logoutSource, postLogoutSuccessSource, renderError } from './pages.mjs';

export { DEMO_ACCOUNTS } from './accounts.mjs';
export { signInAtDevIdp } from './sign-in.mjs';

/** An RS256 signing key: fresh, or kept in `<keysDir>/jwks.json` so tokens survive a restart. */
function signingKeys(keysDir) {
  const file = keysDir && join(keysDir, 'jwks.json');
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' }] };
  if (file) {
    mkdirSync(keysDir, { recursive: true });
    writeFileSync(file, JSON.stringify(jwks), { mode: 0o600 });
  }
  return jwks;
}

function configuration({ clients, accounts, keysDir }) {
  return {
    // A back-channel logout client gets `sid` in ID and logout tokens unless it says otherwise.
    clients: clients.map((c) => (c.backchannel_logout_uri ? { backchannel_logout_session_required: true, ...c } : c)),
    adapter: createMemoryAdapter(),
    findAccount: accountFinder(accounts),
    jwks: signingKeys(keysDir),
    // Keys scope → claims; `groups` becomes a scope of its own.
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    // Like Keycloak or Entra: scope claims in the ID token too, not only from userinfo.
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true }, // v9 supports S256 only
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    features: {
      devInteractions: { enabled: false }, // our own form (interactions.mjs)
      backchannelLogout: { enabled: true }, // clients may register backchannel_logout_uri
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    // Cookies are marked Secure only when the request is https, so plain http on localhost
    // works; they are signed with a per-process key (sessions are in memory anyway).
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 24 * 3600,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
    },
    renderError,
    // oidc-provider refuses to call loopback addresses (SSRF guard); the dev clients'
    // back-channel logout endpoints live exactly there, so call them with plain fetch.
    fetch: (url, { dispatcher: _ssrfGuard, ...options }) => fetch(url, options),
  };
}

async function listen(server, port, host) {
  server.listen(port, host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([e]) => {
      throw e;
    }),
  ]);
}

/**
 * Starts the development identity provider on 127.0.0.1 (and ::1 when available).
 *
 * Demo users (see DEMO_ACCOUNTS): alice@example.com / alice-password (groups admins) and
 * bob@example.com / bob-password (groups staff). Scopes `openid email profile groups`; code
 * flow with PKCE S256 required; client_secret_basic or client_secret_post; RFC 9207 `iss` in
 * every authorization response; back-channel logout (`backchannel_logout_uri`) and
 * RP-initiated logout (`end_session_endpoint`). A test may send a back-channel logout
 * itself: `(await provider.Client.find(id)).backchannelLogout(sub, sid)`.
 *
 * @param {object} options
 * @param {number} [options.port] 0 or absent: a free port
 * @param {string} [options.issuer] default `http://localhost:<port>`
 * @param {object[]} options.clients oidc-provider client metadata: { client_id, client_secret,
 *   redirect_uris, post_logout_redirect_uris?, backchannel_logout_uri?, … }
 * @param {object[]} [options.accounts] default DEMO_ACCOUNTS
 * @param {string} [options.keysDir] keep the signing key there (tokens survive restarts)
 * @returns {Promise<{ issuer: string, port: number, provider: object, close: () => Promise<void> }>}
 */
export async function createDevIdp({ port = 0, issuer, clients, accounts = DEMO_ACCOUNTS, keysDir }) {
  // Bind first so port 0 works: the issuer must name the real port.
  let handler = (_req, res) => res.writeHead(503).end();
  const servers = [createServer((req, res) => handler(req, res))];
  await listen(servers[0], port, '127.0.0.1');
  const actualPort = servers[0].address().port;
  // `localhost` may resolve to ::1 first (browsers, other machines): answer there too.
  const v6 = createServer((req, res) => handler(req, res));
  await listen(v6, actualPort, '::1').then(
    () => servers.push(v6),
    () => {},
  );

  const idpIssuer = issuer ?? `http://localhost:${actualPort}`;
  let closing;
  const close = () =>
    (closing ??= Promise.all(
      servers.map((server) => {
        const closed = once(server, 'close');
        server.close();
        server.closeAllConnections(); // keep-alive sockets would hold close() open
        return closed;
      }),
    ).then(() => {}));
  try {
    // Loaded here, not at the top: tests import this module for signInAtDevIdp alone.
    const { default: Provider } = await import('oidc-provider');
    const provider = new Provider(idpIssuer, configuration({ clients, accounts, keysDir }));
    // An https issuer means a TLS-terminating proxy in front (the e2e production set-up): trust
    // its X-Forwarded-Proto, so cookies are Secure and URLs say https.
    if (new URL(idpIssuer).protocol === 'https:') provider.proxy = true;
    provider.use(interactionRoutes(provider, accounts));
    handler = provider.callback();
    return { issuer: idpIssuer, port: actualPort, provider, close };
  } catch (error) {
    await close(); // e.g. invalid client metadata: do not leave the port bound
    throw error;
  }
}
