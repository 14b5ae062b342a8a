import { SCOPE_NAMES, type Scope } from '@gatehouse/shared';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { loadRedisTopology, type RedisTopology } from './redis.js';
import { type Env, envSchema, type ProviderConfig, providerSchema, type TransmitterConfig, transmitterSchema } from './schema.js';

/** The validated, frozen configuration every part of the server receives. */
export interface Config
  extends Omit<
    Env,
    'MASTER_KEY' | 'CORS_ORIGINS' | 'OIDC_PROVIDERS' | 'SECRET_KEY' | 'RESOURCE_SERVERS' | 'OAUTH_CLIENTS' | 'SSF_TRANSMITTERS'
  > {
  readonly publicUrl: URL;
  readonly publicOrigin: string;
  readonly masterKey: Buffer;
  /** Set when SECRET_KEY replaces the keyring with one static HS256 key. */
  readonly secretKey: Buffer | null;
  /** Resource servers allowed to introspect tokens. */
  readonly resourceServers: readonly { id: string; secret: string }[];
  readonly corsOrigins: readonly string[];
  /** Public, DPoP-bound clients allowed to pair through the device grant. */
  readonly oauthClients: readonly OAuthClientConfig[];
  readonly providers: readonly ProviderConfig[];
  /** Shared Signals transmitters whose security events are received. */
  readonly ssfTransmitters: readonly TransmitterConfig[];
  /** One Redis, Sentinel or Cluster, from the REDIS_* variables. */
  readonly redis: RedisTopology;
  /** Warnings about values that are tolerated outside production; logged at boot. */
  readonly warnings: readonly string[];
}

export { ConfigError };

export interface OAuthClientConfig {
  id: string;
  scopes: readonly Scope[];
}

const MIN_SECRET_BYTES = 32;

export function loadConfig(source: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? 'environment'), issue?.message ?? 'invalid');
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  const warnings: string[] = [];
  // Named checks: each refuses in production and warns elsewhere.
  const check = (ok: boolean, variable: string, message: string) => {
    if (ok) return;
    if (production) throw new ConfigError(variable, message);
    warnings.push(`${variable}: ${message}`);
  };

  const publicUrl = new URL(env.PUBLIC_URL);
  check(publicUrl.protocol === 'https:', 'PUBLIC_URL', 'must be an https URL in production');
  if (publicUrl.pathname !== '/' || publicUrl.search || publicUrl.hash || publicUrl.username) {
    throw new ConfigError('PUBLIC_URL', 'must be an origin without path, query or credentials');
  }

  if (!env.MASTER_KEY) throw new ConfigError('MASTER_KEY', 'is required (32 random bytes, base64 or hex)');
  const masterKey = decodeSecret(env.MASTER_KEY);
  if (masterKey.length < MIN_SECRET_BYTES) {
    throw new ConfigError('MASTER_KEY', `must decode to at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (env.FIRST_RUN_PASSWORD !== undefined) {
    check(
      Buffer.byteLength(env.FIRST_RUN_PASSWORD) >= MIN_SECRET_BYTES,
      'FIRST_RUN_PASSWORD',
      `must be at least ${MIN_SECRET_BYTES} bytes long`,
    );
  }

  let secretKey: Buffer | null = null;
  if (env.SECRET_KEY !== undefined) {
    secretKey = decodeSecret(env.SECRET_KEY);
    if (secretKey.length < MIN_SECRET_BYTES) throw new ConfigError('SECRET_KEY', `must decode to at least ${MIN_SECRET_BYTES} bytes`);
  }

  const resourceServers = splitList(env.RESOURCE_SERVERS).map((pair) => {
    const colon = pair.indexOf(':');
    const id = pair.slice(0, colon);
    const secret = pair.slice(colon + 1);
    if (colon <= 0 || !/^[A-Za-z0-9._-]{1,64}$/.test(id) || !secret) throw new ConfigError('RESOURCE_SERVERS', 'expected id:secret pairs');
    check(
      Buffer.byteLength(secret) >= MIN_SECRET_BYTES,
      'RESOURCE_SERVERS',
      `the secret of ${id} must be at least ${MIN_SECRET_BYTES} bytes`,
    );
    return { id, secret };
  });

  const corsOrigins = splitList(env.CORS_ORIGINS);
  check(!corsOrigins.includes('*'), 'CORS_ORIGINS', 'a wildcard lets any site call the API');
  for (const origin of corsOrigins.filter((o) => o !== '*')) {
    if (!isOrigin(origin)) throw new ConfigError('CORS_ORIGINS', `"${origin}" is not an origin`);
  }

  const oauthClients = splitList(env.OAUTH_CLIENTS).map(loadClient);
  if (new Set(oauthClients.map((client) => client.id)).size !== oauthClients.length)
    throw new ConfigError('OAUTH_CLIENTS', 'a client id is listed twice');

  if (env.METRICS_TOKEN !== undefined) {
    check(Buffer.byteLength(env.METRICS_TOKEN) >= MIN_SECRET_BYTES, 'METRICS_TOKEN', `must be at least ${MIN_SECRET_BYTES} bytes long`);
  }
  const redis = loadRedisTopology(env);
  const providers = splitList(env.OIDC_PROVIDERS).map((id) => loadProvider(id, source, check));
  const ssfTransmitters = splitList(env.SSF_TRANSMITTERS).map((id) => loadTransmitter(id, source, publicUrl.origin, check));
  if (new Set(ssfTransmitters.map((transmitter) => transmitter.id)).size !== ssfTransmitters.length)
    throw new ConfigError('SSF_TRANSMITTERS', 'a transmitter id is listed twice');
  const {
    MASTER_KEY: _m,
    CORS_ORIGINS: _c,
    OIDC_PROVIDERS: _p,
    SECRET_KEY: _s,
    RESOURCE_SERVERS: _r,
    OAUTH_CLIENTS: _o,
    SSF_TRANSMITTERS: _t,
    ...rest
  } = env;
  return deepFreeze({
    ...rest,
    publicUrl,
    publicOrigin: publicUrl.origin,
    masterKey,
    secretKey,
    resourceServers,
    corsOrigins,
    oauthClients,
    providers,
    ssfTransmitters,
    redis,
    warnings,
  });
}

/** SSF_<ID>_… of one Shared Signals transmitter; the keys must come over https in production. */
function loadTransmitter(
  id: string,
  source: Record<string, string | undefined>,
  publicOrigin: string,
  check: (ok: boolean, variable: string, message: string) => void,
): TransmitterConfig {
  if (!/^[a-z][a-z0-9_-]{0,31}$/.test(id)) {
    throw new ConfigError('SSF_TRANSMITTERS', `"${id}" is not a valid transmitter id (a-z, 0-9, - and _)`);
  }
  const prefix = `SSF_${id.toUpperCase().replaceAll('-', '_')}_`;
  const read = (suffix: string) => source[prefix + suffix]?.trim() || undefined;
  const trustEmail = read('TRUST_EMAIL') ?? 'false';
  if (!['true', 'false', '1', '0', 'yes', 'no'].includes(trustEmail))
    throw new ConfigError(`${prefix}TRUST_EMAIL`, 'expected true or false');
  const issuer = read('ISSUER');
  const candidate = {
    id,
    issuer,
    jwksUrl: read('JWKS_URL'),
    audience: read('AUDIENCE') ?? publicOrigin,
    subjectIssuers: read('SUBJECT_ISSUERS') ? splitList(read('SUBJECT_ISSUERS') ?? '') : issuer ? [issuer] : [],
    trustEmail: ['true', '1', 'yes'].includes(trustEmail),
  };
  const parsed = transmitterSchema.safeParse(candidate);
  if (!parsed.success) {
    const field = String(parsed.error.issues[0]?.path[0] ?? 'issuer');
    const suffix = field === 'jwksUrl' ? 'JWKS_URL' : field.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
    throw new ConfigError(prefix + suffix, parsed.error.issues[0]?.message ?? 'invalid');
  }
  const jwksUrl = new URL(parsed.data.jwksUrl);
  check(
    jwksUrl.protocol === 'https:' && !isLoopback(jwksUrl.hostname),
    `${prefix}JWKS_URL`,
    'a transmitter’s keys must be fetched over https from a non-loopback host in production',
  );
  return parsed.data;
}

function loadProvider(
  id: string,
  source: Record<string, string | undefined>,
  check: (ok: boolean, variable: string, message: string) => void,
): ProviderConfig {
  if (!/^[a-z][a-z0-9_-]{0,31}$/.test(id)) {
    throw new ConfigError('OIDC_PROVIDERS', `"${id}" is not a valid provider id (a-z, 0-9, - and _)`);
  }
  const prefix = `OIDC_${id.toUpperCase().replaceAll('-', '_')}_`;
  const read = (suffix: string) => source[prefix + suffix]?.trim() || undefined;
  const candidate = {
    id,
    issuer: read('ISSUER'),
    clientId: read('CLIENT_ID'),
    clientSecret: read('CLIENT_SECRET'),
    name: read('NAME') ?? id,
    scopes: read('SCOPES') ?? 'openid email profile',
    groupsClaim: read('GROUPS_CLAIM') ?? 'groups',
    adminGroups: splitList(read('ADMIN_GROUPS') ?? ''),
    allowedDomains: splitList(read('ALLOWED_DOMAINS') ?? '').map((d) => d.toLowerCase()),
  };
  const parsed = providerSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? 'issuer');
    const suffix = field.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
    throw new ConfigError(prefix + suffix, issue?.message ?? 'invalid');
  }
  const provider = parsed.data;
  if (!provider.scopes.split(' ').includes('openid')) {
    throw new ConfigError(`${prefix}SCOPES`, 'must include openid');
  }
  const issuer = new URL(provider.issuer);
  check(
    issuer.protocol === 'https:' && !isLoopback(issuer.hostname),
    `${prefix}ISSUER`,
    'the development identity provider (http or loopback issuer) is not allowed in production',
  );
  return provider;
}

export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** `client_id:scope+scope`; admin scopes are never granted to a paired client. */
function loadClient(entry: string): OAuthClientConfig {
  const colon = entry.indexOf(':');
  const id = entry.slice(0, colon);
  const scopes = entry.slice(colon + 1).split('+');
  if (colon <= 0 || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new ConfigError('OAUTH_CLIENTS', 'expected `client_id:scope+scope` entries');
  for (const scope of scopes) {
    if (!SCOPE_NAMES.includes(scope as Scope)) throw new ConfigError('OAUTH_CLIENTS', `unknown scope "${scope}" for ${id}`);
    if (scope.startsWith('admin:')) throw new ConfigError('OAUTH_CLIENTS', `${id}: admin scopes cannot be granted to a paired client`);
  }
  return { id, scopes: scopes as Scope[] };
}

/** Extension origins (`chrome-extension://<id>`, `moz-extension://<uuid>`) have no URL origin. */
const EXTENSION_ORIGIN =
  /^(chrome-extension:\/\/[a-p]{32}|moz-extension:\/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

function isOrigin(value: string): boolean {
  if (EXTENSION_ORIGIN.test(value)) return true;
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}

function decodeSecret(value: string): Buffer {
  if (/^[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0) return Buffer.from(value, 'hex');
  if (z.base64url().safeParse(value).success) return Buffer.from(value, 'base64url');
  if (z.base64().safeParse(value).success) return Buffer.from(value, 'base64');
  return Buffer.from(value, 'utf8');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof URL) && !Buffer.isBuffer(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
