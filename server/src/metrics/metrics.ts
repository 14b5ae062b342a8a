import { AUDIT_ACTIONS, ERROR_CODES, type TokenType } from '@gatehouse/shared';
import type { Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds: fine below 10 ms, where the hot paths are, and up to the slowest timeouts. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const AUDIT_ACTION_SET = new Set<string>(AUDIT_ACTIONS);
/** RFC 6749 / 8628 / 9449 error names the OAuth endpoints answer with instead of our codes. */
const OAUTH_ERRORS = new Set([
  'invalid_client',
  'invalid_grant',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'invalid_token',
  'invalid_request',
]);

/** What one audit event tells the counters; nothing else of it (no ids, emails, IPs) is read. */
export interface AuditSignal {
  action: string;
  outcome: string;
  details?: Record<string, unknown> | undefined;
}

/**
 * The Prometheus series of one Gatehouse instance (docs/metrics.md). Labels take only values
 * from closed sets: route templates, methods, status codes, error codes, audit actions and
 * outcomes, configured provider ids, Redis and MongoDB command names. Never a raw path, a user
 * id, an email, an IP or a secret (docs/security-tests.md H3), so cardinality stays bounded whatever
 * requests arrive. One registry per instance, so several apps in one process (tests) keep
 * their figures apart.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly providers: ReadonlySet<string>;

  private readonly requests = new Counter({
    name: 'gatehouse_http_requests_total',
    help: 'HTTP requests answered, by route template, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route template, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly signIns = new Counter({
    name: 'gatehouse_sign_ins_total',
    help: 'Sign-ins through an identity provider, by provider and outcome (succeeded, failed, refused).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly issued = new Counter({
    name: 'gatehouse_tokens_issued_total',
    help: 'Tokens issued, by type (session, api, access, refresh, invitation).',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  private readonly refused = new Counter({
    name: 'gatehouse_token_checks_refused_total',
    help: 'Requests refused because their credential was missing, invalid, expired, revoked or of a disabled account, by error code.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly revocations = new Counter({
    name: 'gatehouse_revocations_total',
    help: 'Revocations, by what was revoked (session, all_sessions, api_token, pairing, account).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly pairings = new Counter({
    name: 'gatehouse_pairing_outcomes_total',
    help: 'Device pairing steps, by outcome (started, confirmed, declined, completed, revoked, exchange_failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly trips = new Counter({
    name: 'gatehouse_rate_limit_trips_total',
    help: 'Requests refused by a rate limit or a failure budget, by limiter.',
    labelNames: ['limiter'] as const,
    registers: [this.registry],
  });
  private readonly redisLatency = new Histogram({
    name: 'gatehouse_redis_command_duration_seconds',
    help: 'Redis command latency, by command, including failures and timeouts.',
    labelNames: ['command', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly mongoLatency = new Histogram({
    name: 'gatehouse_mongodb_command_duration_seconds',
    help: 'MongoDB command latency, by command and outcome.',
    labelNames: ['command', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly sealedAt = new Gauge({
    name: 'gatehouse_audit_sealer_last_run_timestamp_seconds',
    help: 'When this instance last sealed the audit chain successfully (Unix time).',
    registers: [this.registry],
  });
  private readonly sealerLag = new Gauge({
    name: 'gatehouse_audit_sealer_lag_seconds',
    help: 'Seconds since this instance last sealed the audit chain successfully.',
    registers: [this.registry],
    collect: () => {
      const last = this.lastSeal;
      if (last !== null) this.sealerLag.set((Date.now() - last) / 1000);
    },
  });
  private lastSeal: number | null = null;

  constructor(options: { providers?: readonly string[]; defaultMetrics?: boolean } = {}) {
    this.providers = new Set(options.providers ?? []);
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** `redisAvailable()` answers whether the Redis circuit breaker lets commands through. */
  watchBreaker(redisAvailable: () => boolean): void {
    new Gauge({
      name: 'gatehouse_redis_breaker_open',
      help: '1 while the Redis circuit breaker is open (Redis failed moments ago: fallbacks in use), else 0.',
      registers: [this.registry],
      collect() {
        this.set(redisAvailable() ? 0 : 1);
      },
    });
  }

  request(route: string | undefined, method: string, status: number, seconds: number): void {
    const labels = { route: route ?? 'unmatched', method: KNOWN_METHODS.has(method) ? method : 'OTHER', status: String(status) };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
  }

  /** A 401 answer: its code (ours, or the OAuth error name), from a closed set. */
  credentialRefused(code: unknown): void {
    const known = typeof code === 'string' && (code in ERROR_CODES || OAUTH_ERRORS.has(code));
    this.refused.inc({ reason: known ? code : 'other' });
  }

  /** A JWT of one of our types (session, api, access …) or an opaque refresh token. */
  tokenIssued(type: TokenType | 'refresh'): void {
    this.issued.inc({ type });
  }

  sealed(): void {
    this.lastSeal = Date.now();
    this.sealedAt.set(this.lastSeal / 1000);
  }

  /** Every audit event passes here: sign-ins, revocations, pairing steps and limiter trips. */
  audited(event: AuditSignal): void {
    if (!AUDIT_ACTION_SET.has(event.action)) return;
    const [noun, verb] = event.action.split('.') as [string, string];
    if (noun === 'login') {
      const provider = String(event.details?.provider ?? '');
      this.signIns.inc({ provider: this.providers.has(provider) ? provider : 'other', outcome: verb });
    } else if (noun === 'pairing') {
      this.pairings.inc({ outcome: verb });
    } else if (event.action === 'token.exchange_failed') {
      this.pairings.inc({ outcome: 'exchange_failed' });
    } else if (event.action === 'rate_limit.tripped') {
      const limiter = String(event.details?.reason ?? '');
      this.trips.inc({ limiter: /^[a-z_-]{1,32}$/.test(limiter) ? limiter : 'other' });
    }
    const kind = REVOCATION_KINDS[event.action];
    if (kind && event.outcome === 'success') this.revocations.inc({ kind });
  }

  /** Times every command of this client (also failures and timeouts). */
  watchRedis(redis: Redis): void {
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = ((command, stream) => {
      const started = performance.now();
      const done = (outcome: string) => () =>
        this.redisLatency.observe({ command: command.name.toLowerCase(), outcome }, (performance.now() - started) / 1000);
      command.promise.then(done('ok'), done('error'));
      return send(command, stream);
    }) as Redis['sendCommand'];
  }

  /** Times every command of this client; needs the client made with `monitorCommands: true`. */
  watchMongo(client: MongoClient): void {
    const observe = (outcome: string) => (event: { commandName: string; duration: number }) =>
      this.mongoLatency.observe({ command: mongoCommand(event.commandName), outcome }, event.duration / 1000);
    client.on('commandSucceeded', observe('ok'));
    client.on('commandFailed', observe('error'));
  }
}

const REVOCATION_KINDS: Record<string, string> = {
  'session.revoked': 'session',
  'session.revoked_all': 'all_sessions',
  'api_token.revoked': 'api_token',
  'pairing.revoked': 'pairing',
  'user.disabled': 'account',
  'user.banned': 'account',
  'user.deleted': 'account',
};

/** Driver command names are a closed set in practice; anything odd is folded into `other`. */
function mongoCommand(name: string): string {
  return /^[a-zA-Z]{1,32}$/.test(name) ? name : 'other';
}
