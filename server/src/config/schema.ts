import { KNOWN_CLIENTS } from '@gatehouse/shared';
import { z } from 'zod';

/**
 * Every environment variable Gatehouse reads, with its default and its meaning. This schema
 * is parsed once at boot (see load.ts); the configuration reference in docs/ and the
 * README is generated from it, so `description` is user documentation.
 * Per-provider variables (OIDC_<ID>_…) are described in providerVariables below.
 */
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((value) => value === 'true' || value === '1' || value === 'yes');

const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const envSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'test', 'production'])
    .default('development')
    .describe('`production` turns on the strict checks below and refuses unsafe values.'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('HTTP port of the backend.'),
  HOST: z.string().default('127.0.0.1').describe('Address the backend listens on.'),
  PUBLIC_URL: z
    .url()
    .default('http://localhost:3000')
    .describe('The URL people and the extension use to reach the backend; must be https in production.'),
  MONGODB_URL: z
    .string()
    .default('mongodb://127.0.0.1:27018/gatehouse')
    .describe('MongoDB (or FerretDB) connection string, database name in the path.'),
  MONGODB_TIMEOUT_MS: seconds(100, 60_000).default(2000).describe('Server selection and socket timeout for MongoDB, in milliseconds.'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6380').describe('Redis connection string.'),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{0,32}$/)
    .default('gh:')
    .describe('Prefix of every Redis key, so several deployments can share one Redis.'),
  REDIS_TIMEOUT_MS: seconds(50, 10_000)
    .default(500)
    .describe('Redis command timeout in milliseconds; a slower answer counts as Redis being down.'),
  SUPPORT_CONTACT: z
    .string()
    .trim()
    .max(200)
    .optional()
    .describe('Whom a refused person should contact (an email address, a URL or a sentence), shown on refusal pages.'),
  METRICS_PORT: seconds(1, 65_535)
    .optional()
    .describe('A separate port that serves /metrics (Prometheus) for the scraper. Unset: no such listener.'),
  METRICS_HOST: z.string().default('127.0.0.1').describe('Address the metrics port listens on; loopback unless the scraper is elsewhere.'),
  METRICS_TOKEN: z
    .string()
    .optional()
    .describe(
      'A bearer secret (at least 32 bytes in production) for /metrics. When set, the public port also serves /metrics to holders of it; unset, only METRICS_PORT does.',
    ),
  REDIS_SENTINELS: z
    .string()
    .default('')
    .describe(
      'Comma-separated `host:port` of Redis Sentinels; set with REDIS_SENTINEL_MASTER to follow the master they name. REDIS_URL then only gives the password and database.',
    ),
  REDIS_SENTINEL_MASTER: z
    .string()
    .regex(/^[A-Za-z0-9._-]{0,64}$/)
    .default('')
    .describe('The master name the Sentinels monitor.'),
  REDIS_SENTINEL_PASSWORD: z.string().optional().describe('Password of the Sentinels themselves, when they need one.'),
  REDIS_CLUSTER_NODES: z
    .string()
    .default('')
    .describe(
      'Comma-separated `host:port` seed nodes of a Redis Cluster. REDIS_URL then only gives the password. Every Gatehouse key carries one hash tag, so they share a slot.',
    ),
  REDIS_WAIT_REPLICAS: seconds(0, 10)
    .optional()
    .describe(
      'How many replicas must acknowledge a revocation before the call returns (Redis WAIT), so a failover cannot lose it. Default: 1 with Sentinel or Cluster, 0 otherwise.',
    ),
  MASTER_KEY: z
    .string()
    .optional()
    .describe(
      'At least 32 random bytes (base64, base64url or hex): encrypts IP addresses and signing keys, keys the blind index. Required in production.',
    ),
  SECRET_KEY: z
    .string()
    .optional()
    .describe(
      'Replaces the signing keyring with one static HS256 key (at least 32 bytes) and disables rotation; for tests and simple deployments. JWKS is then empty.',
    ),
  MAX_IN_FLIGHT_REQUESTS: z.coerce
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(256)
    .describe(
      'Requests one instance works on at once; beyond that it answers 503 with Retry-After at once instead of queueing (health checks are exempt; 0 disables).',
    ),
  USER_CACHE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(30)
    .describe(
      'How long each instance keeps a user record (for `GET /api/v1/me`) and a user’s session list (for `GET /api/v1/me/sessions`); dropped at once when any instance announces a change over Redis; 0 disables both caches.',
    ),
  KEYRING_REFRESH_SECONDS: seconds(1, 3600)
    .default(5)
    .describe('How often each instance re-reads the signing keyring (a rotation is also announced at once over Redis).'),
  ACCESS_TOKEN_TTL_SECONDS: seconds(60, 86_400)
    .default(600)
    .describe('Lifetime of the access tokens of paired clients (the extension), 60 s to 24 h.'),
  API_TOKEN_MAX_DAYS: seconds(1, 3650).default(365).describe('The longest lifetime a user may give a personal API token.'),
  RESOURCE_SERVERS: z
    .string()
    .default('')
    .describe('Comma-separated `id:secret` pairs of resource servers allowed to call /oauth/introspect with HTTP Basic authentication.'),
  OAUTH_CLIENTS: z
    .string()
    .default(KNOWN_CLIENTS.map((client) => `${client.id}:${client.scopes.join('+')}`).join(','))
    .describe(
      'Public clients that may pair through the device grant, comma-separated `client_id:scope+scope…`; every one is DPoP-bound. The default registers the extension and a first-party CLI.',
    ),
  DEVICE_CODE_TTL_SECONDS: seconds(60, 600)
    .default(600)
    .describe('How long a pairing code stays valid (RFC 8628 `expires_in`), at most 10 minutes.'),
  DEVICE_POLL_INTERVAL_SECONDS: seconds(1, 60)
    .default(5)
    .describe('How often a pairing client may poll the token endpoint; faster polls get `slow_down`.'),
  PAIRING_STARTS_PER_MINUTE: seconds(1, 100_000)
    .default(10)
    .describe('Pairing starts (device authorization requests) per minute from one client address.'),
  PAIRING_STARTS_GLOBAL_PER_MINUTE: seconds(1, 1_000_000).default(600).describe('Pairing starts per minute across all addresses.'),
  PAIRING_CODE_FAILURES_PER_HOUR: seconds(1, 10_000)
    .default(10)
    .describe('Wrong pairing codes allowed per hour from one address, and separately per signed-in user.'),
  PAIRING_CODE_FAILURES_GLOBAL_PER_HOUR: seconds(1, 1_000_000)
    .default(200)
    .describe('Wrong pairing codes allowed per hour across all addresses and users: the cap that bounds a distributed brute force.'),
  DPOP_NONCE_REQUIRED: bool
    .default(true)
    .describe(
      'Require a server-issued `DPoP-Nonce` in proofs sent to the token endpoint (RFC 9449 §8), so a proof cannot be made in advance.',
    ),
  FIRST_RUN_PASSWORD: z
    .string()
    .optional()
    .describe('Enables first-run setup (`Authorization: Bootstrap <password>`). Unset: setup is refused.'),
  DISABLE_SIGNUP: bool.default(false).describe('`true`: people without an account (or an invitation) cannot sign up through SSO.'),
  LOCAL_LOGIN: z
    .enum(['owner', 'all', 'off'])
    .default('owner')
    .describe('Who may sign in with an email and password: only owners (break-glass, the default), everyone, or nobody.'),
  PASSWORD_MIN_LENGTH: z.coerce.number().int().min(8).max(64).default(12).describe('Shortest password accepted (never below 8).'),
  PASSWORD_MAX_LENGTH: z.coerce
    .number()
    .int()
    .min(64)
    .max(1024)
    .default(128)
    .describe('Longest password accepted (bounds the hashing work).'),
  IMPERSONATION: z
    .enum(['off', 'owner', 'admins'])
    .default('off')
    .describe(
      'Support access (a read-only view as another person, at most 15 minutes, with a stated reason): nobody, owners only, or admins and owners. Never of an owner or admin.',
    ),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/\S+$/, 'an smtp:// or smtps:// URL')
    .optional()
    .describe(
      'Where mail goes out (`smtp://user:pass@host:587` upgrades with STARTTLS, `smtps://…:465` is TLS from the start). Unset: nothing is mailed and each link is shown to the admin to pass on.',
    ),
  MAIL_FROM: z
    .string()
    .trim()
    .max(200)
    .optional()
    .describe(
      'The sender of the mail Gatehouse sends, e.g. `Gatehouse <no-reply@example.com>`. Default: `Gatehouse <no-reply@` and the host of PUBLIC_URL.',
    ),
  INVITATION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(168)
    .default(168)
    .describe('How long an invitation link stays valid, in hours (at most 7 days).'),
  TOTP_REQUIRED_FOR_ADMINS: bool
    .default(true)
    .describe('`true`: owners and admins who sign in with a password must turn on two-factor authentication before getting a session.'),
  OIDC_PROVIDERS: z.string().default('').describe('Comma-separated provider ids; each one is configured by the OIDC_<ID>_… variables.'),
  OIDC_STATE_TTL_SECONDS: seconds(30, 3600).default(600).describe('How long a started sign-in may take before it must be started again.'),
  OIDC_HTTP_TIMEOUT_MS: seconds(200, 60_000).default(5000).describe('Timeout of every request to an identity provider, in milliseconds.'),
  BACKCHANNEL_LOGOUT_EXTENSIONS: bool
    .default(false)
    .describe(
      'When a back-channel logout token names a user by `sub` (not a single `sid`), also end the paired extensions of that account, not only its browser sessions.',
    ),
  SSF_TRANSMITTERS: z
    .string()
    .default('')
    .describe(
      'Comma-separated ids of OpenID Shared Signals transmitters whose security events (CAEP, RISC) are received at `/ssf/events/<id>`; each one is configured by the SSF_<ID>_… variables.',
    ),
  SESSION_IDLE_MINUTES: seconds(5, 60 * 24 * 30)
    .default(60 * 24)
    .describe('A browser session ends after this long without a request.'),
  SESSION_ABSOLUTE_HOURS: seconds(1, 24 * 90)
    .default(24 * 14)
    .describe('A browser session ends this long after sign-in, whatever its activity.'),
  TRUST_PROXY_HOPS: seconds(0, 10)
    .default(0)
    .describe('How many reverse proxies in front of the backend append to X-Forwarded-For. 0: the socket address is the client.'),
  RATE_LIMIT_PER_MINUTE: seconds(1, 1_000_000)
    .default(600)
    .describe(
      'Requests per minute allowed from one client address on each instance; refusals (4xx answers) from it count against the same budget shared by all instances (docs/security-model.md "Abuse").',
    ),
  RATE_LIMIT_SIGN_IN_PER_MINUTE: seconds(1, 100_000)
    .default(30)
    .describe('Sign-in starts and callbacks per minute allowed from one client address.'),
  CORS_ORIGINS: z.string().default('').describe('Comma-separated origins allowed to call the API with CORS. `*` is refused in production.'),
  BODY_LIMIT_BYTES: seconds(1024, 10 * 1024 * 1024)
    .default(64 * 1024)
    .describe('Largest request body accepted.'),
  AUDIT_RETENTION_DAYS: seconds(1, 36_500)
    .default(365)
    .describe(
      '`gatehouse audit prune` deletes sealed audit entries older than this many days, keeping a checkpoint so the chain still verifies.',
    ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level of the JSON logs.'),
});

export type Env = z.infer<typeof envSchema>;

/** OIDC_<ID>_<SUFFIX> variables, one set per provider id listed in OIDC_PROVIDERS. */
export const providerVariables = {
  ISSUER: 'Issuer URL; discovery must report exactly this issuer. https in production.',
  CLIENT_ID: 'Client id registered at the provider.',
  CLIENT_SECRET: 'Client secret registered at the provider.',
  NAME: 'Button label on the sign-in page (default: the id).',
  SCOPES: 'Scopes to request (default `openid email profile`).',
  GROUPS_CLAIM: 'ID token / userinfo claim that lists the person’s groups (default `groups`).',
  ADMIN_GROUPS: 'Comma-separated groups whose members get the admin role.',
  ALLOWED_DOMAINS: 'Comma-separated email domains allowed to sign up (default: any).',
} as const;

/** SSF_<ID>_<SUFFIX> variables, one set per transmitter id listed in SSF_TRANSMITTERS. */
export const transmitterVariables = {
  ISSUER: 'The `iss` of the transmitter’s Security Event Tokens, exactly as they carry it.',
  JWKS_URL: 'Where the transmitter publishes its signing keys (`jwks_uri` of its SSF configuration). https in production.',
  AUDIENCE: 'The `aud` the transmitter puts in its tokens for Gatehouse (default: PUBLIC_URL).',
  SUBJECT_ISSUERS: 'Comma-separated issuers whose `iss_sub` subjects this transmitter may name (default: its ISSUER).',
  TRUST_EMAIL: '`true`: the transmitter may name people by email address (only for an identity provider that owns those addresses).',
} as const;

export const transmitterSchema = z.object({
  id: z.string(),
  issuer: z.string().min(1).max(512),
  jwksUrl: z.url(),
  audience: z.string().min(1).max(512),
  subjectIssuers: z.array(z.string().min(1).max(512)).min(1),
  trustEmail: z.boolean(),
});
export type TransmitterConfig = z.infer<typeof transmitterSchema>;

export const providerSchema = z.object({
  id: z.string(),
  issuer: z.url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  name: z.string().min(1).max(60),
  scopes: z.string().regex(/^[\x21-\x7E]+( [\x21-\x7E]+)*$/),
  groupsClaim: z.string().min(1).max(100),
  adminGroups: z.array(z.string()),
  allowedDomains: z.array(z.string()),
});
export type ProviderConfig = z.infer<typeof providerSchema>;
