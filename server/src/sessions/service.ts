import type { SessionKind, SessionView, UserStatus } from '@gatehouse/shared';
import type { Deps, RequestMeta } from '../context.js';
import { randomId } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import { describeDevice } from '../http/index.js';
import { decodeTimeCursor, encodeCursor } from '../store/index.js';
import { type Authenticator, cacheAnnouncer, type Principal, type RevocationState, type TokenIssuer } from '../tokens/index.js';
import type { User, UserStore } from '../users/index.js';
import { LIST_CACHE_MAX_SESSIONS, pageOf, type SessionListCache } from './list-cache.js';
import { type SessionRecord, SessionStore } from './store.js';

/**
 * How often a browser session's cookie is re-issued and its lastSeen written: at most once a
 * minute per session (docs/benchmarks.md). The cookie token lives only as long as
 * the idle limit, so re-issuing it on activity is what keeps an active session alive.
 */
const REFRESH_AFTER_MS = 60_000;

export interface SessionTokenResult {
  record: SessionRecord;
  token: string;
  /** Seconds until the token expires, for the cookie's Max-Age. */
  maxAgeSeconds: number;
}

/** Why an account is stopped; recorded as the revoke reason of its sessions. */
export type StopReason =
  | 'admin_disable'
  | 'admin_ban'
  | 'admin_revoked_all'
  | 'user_deleted'
  | 'security_event'
  | 'password_changed'
  | (string & {});

/** Creating, authenticating, listing and revoking sessions of every kind; the only writer of `sessions`. */
/**
 * A support view (docs/impersonation.md): given the impersonation cookie and the verified
 * session of the admin who holds it, who the request is viewed as — or null when the view
 * has ended (expired, stopped, the admin no longer allowed, the person no longer viewable).
 */
export interface ImpersonationResolver {
  resolve(token: string, admin: Principal): Promise<ImpersonatedView | null>;
}

export interface ImpersonatedView {
  principal: Principal;
  /** What the banner on every page says. */
  banner: { viewedName: string; viewedEmail: string | null; adminName: string; until: Date; adminSessionId: string };
}

export class SessionService {
  private readonly store: SessionStore;
  /** Tells every instance's session-list cache that a user's sessions changed. */
  private readonly announce: (announcement: Record<string, string>) => Promise<void>;
  /** Turns an admin's browser session into a read-only view as someone else (impersonation/). */
  impersonation: ImpersonationResolver | null = null;

  constructor(
    private readonly deps: Deps,
    private readonly users: UserStore,
    private readonly issuer: TokenIssuer,
    private readonly authenticator: Authenticator,
    private readonly revocation: RevocationState,
    private readonly listCache: SessionListCache,
  ) {
    this.store = new SessionStore(deps.db);
    this.announce = cacheAnnouncer(deps, 'session_list.announce_failed');
  }

  /** A browser session after sign-in: a fresh random sid every time (no fixation). */
  async createBrowserSession(
    user: User,
    meta: RequestMeta,
    origin: { providerId: string; upstreamSid: string | null },
  ): Promise<SessionTokenResult> {
    const { config } = this.deps;
    const record = this.newRecord(user, meta, 'browser', config.SESSION_ABSOLUTE_HOURS * 3_600_000, describeDevice(meta.userAgent));
    record.providerId = origin.providerId;
    record.upstreamSid = origin.upstreamSid;
    await this.insert(record);
    return this.mintSessionToken(record, user.tokenVersion);
  }

  /** An API token: a session of kind `api` with its scopes and its own expiry. */
  async createApiToken(
    user: User,
    meta: RequestMeta,
    input: { name: string; scopes: string[]; expiresInDays: number },
  ): Promise<{ record: SessionRecord; token: string }> {
    const lifetimeMs = input.expiresInDays * 86_400_000;
    const record = this.newRecord(user, meta, 'api', lifetimeMs, input.name);
    record.idleExpiresAt = record.absoluteExpiresAt; // API tokens have no idle limit.
    record.scopes = input.scopes;
    await this.insert(record);
    const { token } = await this.issuer.mint('api', {
      sub: user._id,
      tokenVersion: user.tokenVersion,
      sid: record._id,
      scope: input.scopes,
      ttlSeconds: lifetimeMs / 1000,
    });
    return { record, token };
  }

  /**
   * The session of a paired client (kind `extension`), created when its device code is
   * redeemed. It has no idle limit of its own: the refresh-token chain carries that.
   */
  async createPairedSession(
    user: User,
    meta: RequestMeta,
    input: { pairingId: string; clientId: string; jkt: string; scopes: string[]; device: string; lifetimeMs: number },
  ): Promise<SessionRecord> {
    const record = this.newRecord(user, meta, 'extension', input.lifetimeMs, input.device);
    record.idleExpiresAt = record.absoluteExpiresAt;
    record.scopes = input.scopes;
    record.pairingId = input.pairingId;
    record.clientId = input.clientId;
    record.jkt = input.jkt;
    await this.insert(record);
    return record;
  }

  /**
   * Authenticates a session cookie: signature and claims, then the revocation state in one
   * Redis round trip — no MongoDB read. Once a minute the session's lastSeen is written and a
   * fresh token returned for the cookie (sliding idle expiry).
   */
  async authenticate(token: string): Promise<{ principal: Principal; refreshed: SessionTokenResult | null }> {
    const principal = await this.authenticator.authenticate(token, 'session');
    const now = this.deps.clock.now();
    if (now.getTime() - principal.claims.iat * 1000 < REFRESH_AFTER_MS || !principal.sessionId) return { principal, refreshed: null };
    const record = await this.touch(principal.sessionId, now, this.deps.config.SESSION_IDLE_MINUTES * 60_000, REFRESH_AFTER_MS);
    if (!record) {
      const current = await this.store.findById(principal.sessionId);
      if (!current || current.revokedAt || current.absoluteExpiresAt <= now) throw new AppError('TOKEN_REVOKED');
      return { principal, refreshed: null }; // another request refreshed it a moment ago
    }
    return { principal, refreshed: await this.mintSessionToken(record, principal.claims.tokenVersion) };
  }

  /** The user's active sessions as the user may see them, IPs decrypted with their key. */
  async listForUser(
    user: User,
    currentSessionId: string | null,
    limit = 50,
    cursor?: string,
  ): Promise<{ sessions: SessionView[]; next: string | null }> {
    const before = cursor ? sessionCursor(cursor) : undefined;
    const now = this.deps.clock.now();
    // From this instance's copy of the user's list when it can be trusted (sessions/list-cache.ts).
    const all = this.listCache.trusted
      ? await this.listCache.get(
          user._id,
          () => this.store.listUnrevoked(user._id, LIST_CACHE_MAX_SESSIONS + 1),
          (list) => list.length <= LIST_CACHE_MAX_SESSIONS,
        )
      : null;
    const records =
      all && all.length <= LIST_CACHE_MAX_SESSIONS
        ? pageOf(all, now, limit + 1, before)
        : await this.store.listActive(user._id, now, limit + 1, before);
    const page = records.slice(0, limit);
    const last = page[page.length - 1];
    return {
      sessions: page.map((record) => this.view(record, user, currentSessionId)),
      next: records.length > limit && last ? encodeCursor(last._id, last.createdAt) : null,
    };
  }

  /** Revokes one of the user's sessions; false when it is not theirs or already revoked. */
  async revoke(sessionId: string, userId: string, reason: string): Promise<boolean> {
    const revoked = await this.unknownOutcomeDistrusts(() =>
      this.store.revokeWhere(userId, { ids: [sessionId] }, this.deps.clock.now(), reason),
    );
    await this.mirror(revoked);
    return revoked.length > 0;
  }

  /** Revokes the listed sessions of the user (those not revoked yet); returns how many. */
  async revokeMany(userId: string, sessionIds: string[], reason: string): Promise<number> {
    if (sessionIds.length === 0) return 0;
    const revoked = await this.unknownOutcomeDistrusts(() =>
      this.store.revokeWhere(userId, { ids: sessionIds }, this.deps.clock.now(), reason),
    );
    await this.mirror(revoked);
    return revoked.length;
  }

  /** Revokes every session of the user except `keepSessionId`; returns how many. */
  async revokeOthers(userId: string, keepSessionId: string | null, reason: string): Promise<number> {
    const revoked = await this.unknownOutcomeDistrusts(() =>
      this.store.revokeWhere(userId, keepSessionId ? { exceptId: keepSessionId } : {}, this.deps.clock.now(), reason),
    );
    await this.mirror(revoked);
    return revoked.length;
  }

  /**
   * The one path that stops an account — disable, ban, deletion, revoke-all, password change,
   * Shared Signals events. In this order, all before it returns: MongoDB first (the token
   * version bumped, so every token of every type dies at once, and with `status` the new
   * status — only from `status.from` when given, else USER_STATUS_CONFLICT), then the Redis
   * mirror and its announcement to every instance, then every session marked revoked.
   */
  async stopAccount(
    userId: string,
    reason: StopReason,
    status?: { to: Exclude<UserStatus, 'active'>; from?: UserStatus },
  ): Promise<{ user: User; revoked: number }> {
    const now = this.deps.clock.now();
    const user = await this.unknownOutcomeDistrusts(() => this.users.stop(userId, now, status));
    if (!user) throw new AppError(status?.from ? 'USER_STATUS_CONFLICT' : 'NOT_FOUND');
    await this.revocation.userChanged(userId, { tokenVersion: user.tokenVersion, status: user.status });
    const revoked = await this.unknownOutcomeDistrusts(() => this.store.revokeWhere(userId, {}, now, reason));
    await this.mirror(revoked);
    return { user, revoked: revoked.length };
  }

  /** Signs a user out everywhere: `stopAccount` without a status change; returns how many sessions ended. */
  async revokeAll(userId: string, reason: StopReason): Promise<number> {
    return (await this.stopAccount(userId, reason)).revoked;
  }

  /** Lets a stopped account in again (enable, unban) and mirrors it; its old tokens stay dead. */
  async resumeAccount(userId: string, from: UserStatus): Promise<User> {
    const user = await this.users.resume(userId, from, this.deps.clock.now());
    if (!user) throw new AppError('USER_STATUS_CONFLICT');
    await this.revocation.userChanged(userId, { tokenVersion: user.tokenVersion, status: user.status });
    return user;
  }

  findById(sessionId: string): Promise<SessionRecord | null> {
    return this.store.findById(sessionId);
  }

  /** Sessions not yet revoked that match (see SessionStore.findUnrevoked). */
  findUnrevoked(...args: Parameters<SessionStore['findUnrevoked']>): ReturnType<SessionStore['findUnrevoked']> {
    return this.store.findUnrevoked(...args);
  }

  /** Moves a session's lastSeen and idle expiry forward, at most once per `throttleMs`. */
  async touch(sessionId: string, now: Date, idleMs: number, throttleMs: number): Promise<SessionRecord | null> {
    const record = await this.store.touch(sessionId, now, idleMs, throttleMs);
    if (record) await this.announce({ sessionsOf: record.userId });
    return record;
  }

  /** Account deletion: the user's session records go (after `stopAccount` ended them). */
  async deleteUserRecords(userId: string): Promise<void> {
    await this.store.deleteForUser(userId);
    await this.announce({ sessionsOf: userId });
  }

  private async insert(record: SessionRecord): Promise<void> {
    await this.store.insert(record);
    await this.announce({ sessionsOf: record.userId });
  }

  /**
   * A revocation written to MongoDB whose answer is lost (a cut connection, a failover) may have
   * landed without its Redis mirror: the caller gets the error (503, retry), and no instance
   * trusts the mirror until it is rebuilt from MongoDB (server/src/store/mongo-faults.test.ts).
   */
  private async unknownOutcomeDistrusts<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      await this.revocation.distrust();
      throw error;
    }
  }

  /** Revoked sessions: the Redis facts every request checks, then the owners' lists on every instance. */
  private async mirror(revoked: SessionRecord[]): Promise<void> {
    await this.revocation.sessionsRevoked(revoked.map((record) => ({ id: record._id, absoluteExpiresAt: record.absoluteExpiresAt })));
    for (const userId of new Set(revoked.map((record) => record.userId))) await this.announce({ sessionsOf: userId });
  }

  private async mintSessionToken(record: SessionRecord, tokenVersion: number): Promise<SessionTokenResult> {
    const now = this.deps.clock.now().getTime();
    const expiresAt = Math.min(record.idleExpiresAt.getTime(), record.absoluteExpiresAt.getTime());
    const ttlSeconds = Math.max(1, Math.floor((expiresAt - now) / 1000));
    const { token } = await this.issuer.mint('session', { sub: record.userId, tokenVersion, sid: record._id, ttlSeconds });
    return { record, token, maxAgeSeconds: ttlSeconds };
  }

  private newRecord(user: User, meta: RequestMeta, kind: SessionKind, lifetimeMs: number, device: string): SessionRecord {
    const { config, clock, ipCipher } = this.deps;
    const now = clock.now();
    return {
      _id: randomId(24),
      userId: user._id,
      kind,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: new Date(now.getTime() + Math.min(config.SESSION_IDLE_MINUTES * 60_000, lifetimeMs)),
      absoluteExpiresAt: new Date(now.getTime() + lifetimeMs),
      revokedAt: null,
      revokeReason: null,
      device,
      ip: ipCipher.encrypt(meta.ip, user._id, user.keySalt),
      ipIndex: ipCipher.blindIndex(meta.ip),
      providerId: null,
      upstreamSid: null,
    };
  }

  private view(record: SessionRecord, user: User, currentSessionId: string | null): SessionView {
    return {
      id: record._id,
      kind: record.kind,
      device: record.device,
      ...(record.scopes ? { scopes: record.scopes } : {}),
      expiresAt: new Date(Math.min(record.idleExpiresAt.getTime(), record.absoluteExpiresAt.getTime())).toISOString(),
      createdAt: record.createdAt.toISOString(),
      lastSeenAt: record.lastSeenAt.toISOString(),
      ip: record.ip ? this.deps.ipCipher.decrypt(record.ip, user._id, user.keySalt) : null,
      current: record._id === currentSessionId,
    };
  }
}

/** Session ids are at least 8 characters; the cursor is the last session's creation time and id. */
function sessionCursor(cursor: string): { createdAt: Date; id: string } {
  const { time, id } = decodeTimeCursor(cursor, 8);
  return { createdAt: time, id };
}
