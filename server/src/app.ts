import Router from '@koa/router';
import Koa from 'koa';
import { AdminService, adminConsoleRoutes, adminRoutes, UserDeletion } from './admin/index.js';
import { AuditLog } from './audit/index.js';
import type { Deps, RequestMeta } from './context.js';
import { AppError } from './errors/index.js';
import {
  type AppState,
  CsrfTokens,
  corsFor,
  createLimiter,
  errorHandler,
  generalRateLimit,
  healthRoutes,
  loadShed,
  methodGuard,
  openApiRoutes,
  rateLimit,
  requestContext,
  securityHeaders,
} from './http/index.js';
import { ImpersonationService, impersonationBanner, impersonationRoutes } from './impersonation/index.js';
import { InvitationService, InvitationStore, invitationRoutes } from './invitations/index.js';
import {
  LocalAuthService,
  LoginBackoff,
  localAuthPageRoutes,
  localAuthRoutes,
  PasswordForm,
  PasswordResets,
  SecretSealer,
} from './local-auth/index.js';
import { Mailer, messages } from './mail/index.js';
import { Metrics, publicMetrics, requestMetrics } from './metrics/index.js';
import {
  BackchannelLogout,
  LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS,
  LOGOUT_TOKEN_MAX_AGE_SECONDS,
  LoginStateStore,
  LogoutTokenReplayStore,
  oidcRoutes,
  ProviderRegistry,
  SignInService,
} from './oidc/index.js';
import { CodeAttempts, CodeHasher, OAuthClients, oauthRoutes, PairingService, PairingStore, pairRoutes } from './pairing/index.js';
import { ProfileService, profileRoutes } from './profile/index.js';
import { SessionListCache, SessionService, sessionRoutes } from './sessions/index.js';
import { SetupService, setupRoutes } from './setup/index.js';
import { ssfRoutes } from './signals/index.js';
import { CacheSubscription, redisHealth } from './store/index.js';
import {
  Authenticator,
  DpopVerifier,
  invalidationChannel,
  Keyring,
  KeyStore,
  listenForInvalidation,
  RevocationState,
  TokenIssuer,
  tokenRoutes,
} from './tokens/index.js';
import { UserCache, UserStore, userChangeAnnouncer } from './users/index.js';
import { errorPageRenderer, webRoutes } from './web/index.js';

/** The services behind the routes, exposed so tests and the CLI can reach them. */
export interface Services {
  audit: AuditLog;
  userCache: UserCache;
  admin: AdminService;
  keyring: Keyring;
  issuer: TokenIssuer;
  revocation: RevocationState;
  authenticator: Authenticator;
  sessions: SessionService;
  users: UserStore;
  providers: ProviderRegistry;
  signIn: SignInService;
  setup: SetupService;
  csrf: CsrfTokens;
  pairing: PairingService;
  dpop: DpopVerifier;
  deletion: UserDeletion;
  metrics: Metrics;
  local: LocalAuthService;
  resets: PasswordResets;
  invitations: InvitationService;
  mailer: Mailer;
  impersonation: ImpersonationService;
}

/**
 * Assembles the Koa app: cross-cutting steps in the order a request meets them, then each
 * feature's routes. Nothing here talks to a store; the deps carry the connections.
 */
export async function createApp(given: Deps): Promise<{ app: Koa<AppState>; services: Services; close(): void }> {
  const { config, log } = given;
  const metrics = given.metrics ?? new Metrics({ providers: config.providers.map((provider) => provider.id) });
  metrics.watchBreaker(() => redisHealth(given.redis).available);
  // Every feature gets the same series through its deps.
  const deps: Deps = { ...given, metrics };
  const audit = new AuditLog(deps);
  const keyring = config.secretKey
    ? await Keyring.fromSecret(config.secretKey, log)
    : await Keyring.open(new KeyStore(deps.db, config.masterKey), deps.clock, config.KEYRING_REFRESH_SECONDS * 1000);
  const issuer = new TokenIssuer(keyring, config.publicOrigin, deps.clock, (type) => metrics.tokenIssued(type));
  const revocation = new RevocationState(
    deps.db,
    deps.redis,
    deps.clock,
    log,
    invalidationChannel(config.REDIS_KEY_PREFIX),
    config.redis.waitReplicas,
  );
  const authenticator = new Authenticator(issuer, revocation);
  const users = new UserStore(deps.db, userChangeAnnouncer(deps));
  audit.names = async (ids) => new Map((await users.page({ _id: { $in: ids } }, ids.length)).map((user) => [user._id, user.name]));
  // One subscription to the invalidation channel for the per-instance caches (store/announced-cache.ts).
  const cacheTtlMs = config.USER_CACHE_SECONDS * 1000;
  const cacheSubscription = cacheTtlMs > 0 ? new CacheSubscription(deps.redis, invalidationChannel(config.REDIS_KEY_PREFIX), log) : null;
  const userCache = new UserCache(cacheSubscription, cacheTtlMs);
  const sessions = new SessionService(deps, users, issuer, authenticator, revocation, new SessionListCache(cacheSubscription, cacheTtlMs));
  const admin = new AdminService(deps, users, sessions, audit);
  const subscriber = listenForInvalidation(deps.redis, config.REDIS_KEY_PREFIX, log, () => keyring.reload());
  const providers = new ProviderRegistry(config, deps.log);
  const impersonation = new ImpersonationService(deps, users, issuer, authenticator, revocation, audit);
  sessions.impersonation = impersonation;
  const mailer = new Mailer(config, log);
  const invitations = new InvitationService(deps, new InvitationStore(deps.db), users, issuer, mailer, audit);
  const signIn = new SignInService(
    deps,
    providers,
    new LoginStateStore(deps.redis, config.OIDC_STATE_TTL_SECONDS),
    sessions,
    audit,
    invitations,
  );
  const setup = new SetupService(deps, audit);
  const replay = new LogoutTokenReplayStore(deps.redis, LOGOUT_TOKEN_MAX_AGE_SECONDS + 2 * LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS);
  const backchannel = new BackchannelLogout(deps, providers, sessions, users, audit, replay);
  const csrf = new CsrfTokens(config.masterKey);
  const dpop = new DpopVerifier(deps.redis, config.masterKey, deps.clock);
  const pairing = new PairingService(
    deps,
    new OAuthClients(config.oauthClients),
    new PairingStore(deps.db),
    new CodeHasher(config.masterKey),
    sessions,
    users,
    issuer,
    revocation,
    audit,
  );
  const local = new LocalAuthService(deps, users, sessions, audit, new LoginBackoff(deps.redis), new SecretSealer(config.masterKey));
  // Deletion asks each feature that keeps records of a person to delete its own.
  const deletion = new UserDeletion(users, sessions, [pairing, sessions, local, invitations], audit);
  // Mailed when SMTP_URL is set and the server takes it; otherwise shown to the admin (local-auth/reset.ts).
  const resets = new PasswordResets(deps, users, sessions, issuer, local, audit, {
    sendResetLink: (email, url, expiresAt) => mailer.send(messages.passwordReset(email, url, expiresAt)),
  });
  const services: Services = {
    metrics,
    local,
    resets,
    invitations,
    mailer,
    impersonation,
    audit,
    userCache,
    admin,
    deletion,
    keyring,
    issuer,
    revocation,
    authenticator,
    sessions,
    users,
    providers,
    signIn,
    setup,
    csrf,
    pairing,
    dpop,
  };
  const credentialDeps = { sessions, authenticator, csrf, dpop, publicOrigin: config.publicOrigin };

  const onTrip = (name: string) => (meta: RequestMeta) =>
    void audit.recordBestEffort({ action: 'rate_limit.tripped', outcome: 'refused', actor: 'anonymous', details: { reason: name } }, meta);
  const generalLimit = generalRateLimit(createLimiter(deps.redis, 'general', config.RATE_LIMIT_PER_MINUTE), 60, onTrip('general'));
  const signInLimit = rateLimit(createLimiter(deps.redis, 'sign-in', config.RATE_LIMIT_SIGN_IN_PER_MINUTE), onTrip('sign-in'));
  const pairingStartLimits = [
    rateLimit(createLimiter(deps.redis, 'pair-start', config.PAIRING_STARTS_PER_MINUTE), onTrip('pair-start')),
    rateLimit(
      createLimiter(deps.redis, 'pair-start-all', config.PAIRING_STARTS_GLOBAL_PER_MINUTE),
      onTrip('pair-start-global'),
      () => 'all',
    ),
  ];
  const codeAttempts = new CodeAttempts(
    deps.redis,
    config.PAIRING_CODE_FAILURES_PER_HOUR,
    config.PAIRING_CODE_FAILURES_GLOBAL_PER_HOUR,
    (budget) =>
      void audit.recordBestEffort({ action: 'rate_limit.tripped', outcome: 'refused', actor: 'anonymous', details: { reason: budget } }),
  );

  const app = new Koa<AppState>({ proxy: false });
  app.silent = true; // errorHandler logs every failure once; Koa's own stderr logging would repeat it.
  app.use(requestContext(deps.log, config.TRUST_PROXY_HOPS));
  app.use(requestMetrics(metrics));
  if (config.NODE_ENV === 'test') {
    // Tests check every answer against its route's declared schema (see http/route.ts).
    app.use(async (ctx, next) => {
      ctx.state.checkResponses = true;
      await next();
    });
  }
  // Outside the error handler, so that refusal pages during a support view carry the banner too.
  app.use(impersonationBanner(csrf));
  app.use(errorHandler(errorPageRenderer(config.SUPPORT_CONTACT)));
  app.use(publicMetrics(metrics, config.METRICS_TOKEN));
  app.use(loadShed(config.MAX_IN_FLIGHT_REQUESTS));
  app.use(securityHeaders(config.publicUrl.protocol === 'https:'));
  app.use(methodGuard());
  app.use(corsFor(config.corsOrigins));

  const routers: Router<AppState>[] = [
    openApiRoutes(config.publicOrigin),
    healthRoutes({ redis: deps.redis, db: deps.db, timeoutMs: Math.max(config.REDIS_TIMEOUT_MS, 1000) }),
    webRoutes({
      providers,
      sessions,
      users,
      csrf,
      audit,
      passwordForm: config.LOCAL_LOGIN === 'off' ? undefined : (returnTo) => PasswordForm({ returnTo }),
      localAccount: async (user) => (local.allowed(user) ? local.status(user._id) : null),
    }),
    localAuthPageRoutes({
      local,
      resets,
      invitations,
      sessions,
      publicOrigin: config.publicOrigin,
      bodyLimit: config.BODY_LIMIT_BYTES,
      signInLimit,
      enabled: config.LOCAL_LOGIN !== 'off',
    }),
    oidcRoutes({
      signIn,
      sessions,
      audit,
      revocation,
      users,
      csrf,
      publicOrigin: config.publicOrigin,
      stateTtlSeconds: config.OIDC_STATE_TTL_SECONDS,
      bodyLimit: config.BODY_LIMIT_BYTES,
      signInLimit,
      backchannel,
    }),
    localAuthRoutes({
      ...credentialDeps,
      local,
      resets,
      users,
      bodyLimit: config.BODY_LIMIT_BYTES,
      signInLimit,
      localLoginEnabled: config.LOCAL_LOGIN !== 'off',
    }),
    invitationRoutes({
      ...credentialDeps,
      invitations,
      users,
      providers: () => providers.list().map(({ id, name }) => ({ id, name })),
      passwordAllowed: config.LOCAL_LOGIN === 'all',
      bodyLimit: config.BODY_LIMIT_BYTES,
      signInLimit,
    }),
    impersonationRoutes({ impersonation, sessions, csrf, publicOrigin: config.publicOrigin, bodyLimit: config.BODY_LIMIT_BYTES }),
    profileRoutes({
      ...credentialDeps,
      profile: new ProfileService(deps, users, issuer, mailer, audit),
      users,
      bodyLimit: config.BODY_LIMIT_BYTES,
      signInLimit,
    }),
    ssfRoutes(deps, { users, sessions, admin, audit }),
    setupRoutes({ setup, publicOrigin: config.publicOrigin, bodyLimit: config.BODY_LIMIT_BYTES, limit: signInLimit }),
    sessionRoutes({
      ...credentialDeps,
      users,
      userCache,
      audit,
      revocation,
      bodyLimit: config.BODY_LIMIT_BYTES,
      apiTokenMaxDays: config.API_TOKEN_MAX_DAYS,
      adminRevokeAll: (actor, targetId, meta) => admin.revokeAll({ kind: 'user', user: actor }, targetId, meta),
    }),
    adminRoutes({ ...credentialDeps, admin, deletion, users, bodyLimit: config.BODY_LIMIT_BYTES }),
    adminConsoleRoutes({
      deps,
      admin,
      users,
      sessions,
      csrf,
      audit,
      keyring,
      invitations,
      impersonation,
      resets,
      passwordAllowed: (user) => local.allowed(user),
      publicOrigin: config.publicOrigin,
      bodyLimit: config.BODY_LIMIT_BYTES,
    }),
    tokenRoutes({
      keyring,
      authenticator,
      revocation,
      resourceServers: config.resourceServers,
      issuer: config.publicOrigin,
      bodyLimit: config.BODY_LIMIT_BYTES,
      revokeSession: (sessionId, userId) => sessions.revoke(sessionId, userId, 'token_revoked'),
      revokeRefreshToken: (token, clientId) => pairing.revokeRefreshToken(token, clientId),
    }),
    oauthRoutes({
      pairing,
      dpop,
      issuer: config.publicOrigin,
      bodyLimit: config.BODY_LIMIT_BYTES,
      requireNonce: config.DPOP_NONCE_REQUIRED,
      startLimits: pairingStartLimits,
    }),
    pairRoutes({
      pairing,
      attempts: codeAttempts,
      sessions,
      users,
      csrf,
      publicOrigin: config.publicOrigin,
      bodyLimit: config.BODY_LIMIT_BYTES,
    }),
  ];
  app.use(async (ctx, next) => {
    // Health probes are exempt so that a flood can't make the orchestrator kill the instance.
    if (ctx.path === '/healthz' || ctx.path === '/readyz') return next();
    return generalLimit(ctx, next);
  });
  // One router holding every feature's routes: a request is matched once, not walked through
  // each feature's router and its allowedMethods in turn (docs/benchmarks.md).
  const root = new Router<AppState>();
  for (const router of routers) root.use(router.routes());
  app.use(root.routes());
  app.use(
    root.allowedMethods({
      throw: true,
      methodNotAllowed: () => new AppError('METHOD_NOT_ALLOWED'),
      notImplemented: () => new AppError('METHOD_NOT_ALLOWED'),
    }),
  );
  return {
    app,
    services,
    close() {
      keyring.close();
      subscriber.disconnect();
      cacheSubscription?.close();
      mailer.close();
    },
  };
}
