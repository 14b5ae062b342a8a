import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { createTestApp, type TestApp } from './harness.js';
import { callbackJson, SecretWatch, startLogin } from './sign-in.js';
import { newSigningKey, type SigningKey } from './signing-keys.js';

/**
 * A small but real OpenID provider over HTTP on localhost whose answers a test can bend, for
 * the cases a well-behaved provider never produces (docs/security-tests.md O5–O10): another issuer in
 * discovery, ID tokens with wrong claims or algorithms, unknown or rotated keys. It checks
 * client authentication and PKCE like a real provider, so the happy path passes through the
 * same code as with oidc-provider.
 */
export interface RogueBehaviour {
  /** Issuer written into the discovery document (default: the real one). */
  discoveryIssuer?: string;
  /** Advertise RFC 9207 `authorization_response_iss_parameter_supported` (default true). */
  advertiseIss: boolean;
  /** How the ID token is signed. */
  alg: 'RS256' | 'none' | 'HS256-client-secret' | 'unknown-key';
  /** Claims to override (undefined removes nothing; use `omit`). */
  claims: Record<string, unknown>;
  omit: string[];
  /** Milliseconds the token endpoint waits before answering. */
  tokenDelayMs: number;
  /** When set, the JWKS endpoint answers this status with no keys. */
  jwksStatus?: number;
}

export interface RogueIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  behaviour: RogueBehaviour;
  /** Issues a code for an authorization URL our server produced, as the provider would after login. */
  authorize(authorizationUrl: URL, sub?: string): URL;
  /** Adds a new signing key and signs with it from now on; the JWKS serves only the keys listed. */
  rotateKey(): Promise<void>;
  /**
   * A back-channel logout token as this provider would sign it (iss, aud, iat, jti, events,
   * sub), with `claims` overriding and `omit` removing; `alg` as for ID tokens.
   */
  signLogoutToken(options?: {
    claims?: Record<string, unknown>;
    omit?: string[];
    alg?: RogueBehaviour['alg'];
    typ?: string;
  }): Promise<string>;
  /** How many times the JWKS was fetched. */
  jwksFetches: number;
  /** Every ID token the token endpoint handed out, for checking that none leaks into logs. */
  issuedIdTokens: string[];
  close(): Promise<void>;
}

/** Where the rogue provider sends the browser back: Gatehouse's callback for provider id `rogue`. */
export const ROGUE_REDIRECT_URI = 'http://127.0.0.1:4555/auth/rogue/callback';

/** A well-behaved provider: what `behaviour` starts as, for resetting it between tests. */
export function rogueDefaults(): RogueBehaviour {
  return defaults();
}

/** The environment that adds the rogue provider (id `rogue`) beside the dev one. */
export function rogueProviderEnv(idp: RogueIdp): Record<string, string> {
  return {
    OIDC_PROVIDERS: 'dev,rogue',
    OIDC_ROGUE_ISSUER: idp.issuer,
    OIDC_ROGUE_CLIENT_ID: idp.clientId,
    OIDC_ROGUE_CLIENT_SECRET: idp.clientSecret,
  };
}

const defaults = (): RogueBehaviour => ({ advertiseIss: true, alg: 'RS256', claims: {}, omit: [], tokenDelayMs: 0 });

const newKey = () => newSigningKey('RS256');

export async function startRogueIdp(options: { redirectUri: string }): Promise<RogueIdp> {
  const clientId = 'rogue-client';
  const clientSecret = randomBytes(24).toString('base64url');
  const keys: SigningKey[] = [await newKey()];
  const stranger = await newKey();
  const codes = new Map<string, { nonce: string; challenge: string; sub: string }>();
  let server: Server;

  const idp: RogueIdp = {
    issuer: '',
    clientId,
    clientSecret,
    behaviour: defaults(),
    jwksFetches: 0,
    issuedIdTokens: [],
    authorize(authorizationUrl, sub = 'rogue-user-1') {
      const params = authorizationUrl.searchParams;
      const code = randomBytes(16).toString('base64url');
      codes.set(code, { nonce: params.get('nonce') ?? '', challenge: params.get('code_challenge') ?? '', sub });
      const back = new URL(options.redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', params.get('state') ?? '');
      back.searchParams.set('iss', idp.issuer);
      return back;
    },
    async signLogoutToken({ claims = {}, omit = [], alg = 'RS256', typ = 'logout+jwt' } = {}) {
      const payload: Record<string, unknown> = {
        iss: idp.issuer,
        aud: clientId,
        iat: Math.floor(Date.now() / 1000),
        jti: randomBytes(16).toString('base64url'),
        sub: 'rogue-user-1',
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
        ...claims,
      };
      for (const key of omit) delete payload[key];
      return signWith(payload, alg, typ);
    },
    async rotateKey() {
      keys.unshift(await newKey());
    },
    close: async () => {
      server.close();
      server.closeAllConnections();
    },
  };

  function signWith(claims: Record<string, unknown>, alg: RogueBehaviour['alg'], typ = 'JWT'): Promise<string> {
    if (alg === 'none') {
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      return Promise.resolve(`${encode({ alg: 'none', typ })}.${encode(claims)}.`);
    }
    if (alg === 'HS256-client-secret') {
      return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ }).sign(new TextEncoder().encode(clientSecret));
    }
    const signer = alg === 'unknown-key' ? stranger : (keys[0] as SigningKey);
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: signer.kid, typ }).sign(signer.privateKey);
  }

  async function idToken(entry: { nonce: string; sub: string }): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: idp.issuer,
      aud: clientId,
      sub: entry.sub,
      nonce: entry.nonce,
      iat: now,
      exp: now + 300,
      email: `${entry.sub}@rogue.example`,
      email_verified: true,
      name: 'Rogue User',
      ...idp.behaviour.claims,
    };
    for (const key of idp.behaviour.omit) delete claims[key];
    const { alg } = idp.behaviour;
    if (alg === 'none') {
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
    }
    if (alg === 'HS256-client-secret') {
      return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(clientSecret));
    }
    const signer = alg === 'unknown-key' ? stranger : (keys[0] as SigningKey);
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: signer.kid }).sign(signer.privateKey);
  }

  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', idp.issuer);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: idp.behaviour.discoveryIssuer ?? idp.issuer,
        authorization_endpoint: `${idp.issuer}/authorize`,
        token_endpoint: `${idp.issuer}/token`,
        jwks_uri: `${idp.issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
        authorization_response_iss_parameter_supported: idp.behaviour.advertiseIss,
      });
    }
    if (url.pathname === '/jwks') {
      idp.jwksFetches++;
      if (idp.behaviour.jwksStatus) return json(idp.behaviour.jwksStatus, { error: 'unavailable' });
      return json(200, { keys: keys.map((key) => key.publicJwk) });
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      if (!clientAuthenticated(req.headers.authorization, clientId, clientSecret)) return json(401, { error: 'invalid_client' });
      const entry = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (!entry) return json(400, { error: 'invalid_grant' });
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== entry.challenge) {
        return json(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
      }
      if (idp.behaviour.tokenDelayMs) await new Promise((resolve) => setTimeout(resolve, idp.behaviour.tokenDelayMs));
      const id_token = await idToken(entry);
      idp.issuedIdTokens.push(id_token);
      return json(200, { access_token: randomBytes(16).toString('base64url'), token_type: 'Bearer', expires_in: 300, id_token });
    }
    json(404, { error: 'not_found' });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  idp.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return idp;
}

/**
 * client_secret_basic as RFC 6749 §2.3.1 has it: id and secret are form-urlencoded before
 * base64, so they are decoded before comparing (openid-client sends `rogue%2Dclient`).
 */
function clientAuthenticated(header: string | undefined, clientId: string, clientSecret: string): boolean {
  const [scheme, encoded] = (header ?? '').split(' ');
  if (scheme !== 'Basic' || !encoded) return false;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  try {
    return formDecode(decoded.slice(0, colon)) === clientId && formDecode(decoded.slice(colon + 1)) === clientSecret;
  } catch {
    return false;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A rogue provider, an app that trusts it as provider `rogue` (beside dev), and a secret watch. */
export interface RogueApp {
  idp: RogueIdp;
  t: TestApp;
  watch: SecretWatch;
  close(): Promise<void>;
}

export async function startRogueApp(behaviour: Partial<RogueBehaviour> = {}, env: Record<string, string> = {}): Promise<RogueApp> {
  const idp = await startRogueIdp({ redirectUri: ROGUE_REDIRECT_URI });
  Object.assign(idp.behaviour, behaviour);
  const t = await createTestApp({ ...rogueProviderEnv(idp), ...env });
  const watch = new SecretWatch();
  watch.add(idp.clientSecret, t.config.providers.find((provider) => provider.id === 'dev')?.clientSecret);
  return {
    idp,
    t,
    watch,
    async close() {
      await t.close();
      await idp.close();
    },
  };
}

/**
 * One sign-in at the rogue provider: a fresh browser starts the login, the provider issues a
 * code for `sub`, `bend` may alter the callback URL, and the browser goes back asking for JSON.
 * Every secret on the way (state, nonce, verifier, code, ID token) goes to the watch.
 */
export async function signInAtRogue({ idp, t, watch }: RogueApp, options: { sub?: string; bend?: (back: URL) => void } = {}) {
  const started = await startLogin(t, { provider: 'rogue' });
  await watch.addLogin(t, started);
  const back = idp.authorize(started.location, options.sub);
  options.bend?.(back);
  watch.addCallback(back);
  const response = await callbackJson(t, back, started.loginCookie);
  watch.add(...idp.issuedIdTokens);
  return { started, back, response };
}
