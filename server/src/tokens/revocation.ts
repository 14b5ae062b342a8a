import type { UserStatus } from '@gatehouse/shared';
import type { Redis } from 'ioredis';
import type { Collection, Db } from 'mongodb';
import type { Clock } from '../context.js';
import { AppError, guardStore, isDuplicateKey, storeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { COLLECTIONS, type RedisHealth, redisHealth, scanKeys, waitForReplicas } from '../store/index.js';
import { type FactsReply, RevocationFactsReader } from './revocation-facts.js';

/** The durable copy of the jti denylist. */
interface RevokedToken {
  _id: string; // jti
  expiresAt: Date;
}

interface UserFacts {
  tokenVersion: number;
  status: UserStatus;
}

/** What a verified token asks about: its user, its jti, and the session it belongs to. */
export interface RevocationQuery {
  userId: string;
  jti: string;
  tokenVersion: number;
  sid?: string | undefined;
  /**
   * A key that must never have been seen (a DPoP proof's jti), claimed with SET NX in the same
   * round trip. Without Redis it cannot be claimed, so the request fails closed.
   */
  once?: OnceKey | undefined;
}

export interface OnceKey {
  key: string;
  ttlSeconds: number;
}

interface Facts {
  user: UserFacts | null;
  denied: boolean;
  sessionRevoked: boolean;
  replayed: boolean;
}

const USER_TTL_SECONDS = 24 * 3600;
const EPOCH_KEY = 'epoch';

/**
 * Whether a token is still good, answered in ONE Redis round trip on the hot path (one script,
 * shared by every check of the same event-loop turn: revocation-facts.ts):
 * the epoch marker, the user's tokenVersion + status, the jti denylist and the revoked-session
 * marker. MongoDB holds the truth; Redis is its mirror:
 *
 * - every change is written to MongoDB first, then to Redis, then announced on pub/sub, all
 *   before the API call returns; a failed Redis write deletes the epoch so that no instance
 *   trusts the stale mirror;
 * - a missing epoch means Redis lost its data (restart, flush): the denylist and revoked
 *   sessions are copied back from MongoDB before any miss is trusted;
 * - Redis unreachable: the same questions go to MongoDB; both down: 503.
 */
export class RevocationState {
  private readonly revoked: Collection<RevokedToken>;
  private readonly sessions: Collection<{ _id: string; revokedAt: Date | null; absoluteExpiresAt: Date }>;
  private readonly users: Collection<{ _id: string; tokenVersion: number; status: UserStatus }>;
  private rebuilding: Promise<void> | null = null;
  private readonly facts: RevocationFactsReader;
  private readonly health: RedisHealth;
  /**
   * A change reached MongoDB but neither its Redis mirror nor the epoch deletion got through
   * (Redis unreachable, not wiped): when Redis answers again it still holds an epoch and the old
   * facts. The epoch is dropped at the first chance — on reconnect, or before the next read.
   */
  private mirrorStale = false;

  constructor(
    db: Db,
    private readonly redis: Redis,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** The pub/sub channel that announces changes (see invalidation.ts). */
    private readonly channel: string,
    /** Replicas that must hold a revocation before it is acknowledged (REDIS_WAIT_REPLICAS). */
    private readonly waitReplicas = 0,
  ) {
    this.revoked = db.collection<RevokedToken>(COLLECTIONS.revokedTokens);
    this.sessions = db.collection(COLLECTIONS.sessions);
    this.users = db.collection(COLLECTIONS.users);
    this.health = redisHealth(redis);
    this.facts = new RevocationFactsReader(redis, EPOCH_KEY);
    redis.on('ready', () => void this.dropStaleMirror().catch(() => undefined));
    // A reconnect may land on another server: a promoted replica after a Sentinel or Cluster
    // failover, or a restarted one. Replication is asynchronous, so what it holds may lag what
    // was answered; rebuild from MongoDB before trusting a miss again (docs/redis.md).
    let connected = false;
    const reconnected = () => {
      if (connected) this.mirrorStale = true;
      connected = true;
    };
    redis.on('ready', reconnected);
    for (const event of ['+node', '-node', 'node error']) {
      redis.on(event, () => {
        if (connected) this.mirrorStale = true;
      });
    }
  }

  /** Throws TOKEN_REVOKED / TOKEN_ACCOUNT_DISABLED when the token must not be honoured. */
  async check(query: RevocationQuery): Promise<void> {
    let facts: Facts;
    try {
      // While the breaker is open (Redis just failed), go straight to MongoDB.
      facts = this.health.available ? await this.readRedis(query) : await this.readMongo(query);
    } catch (error) {
      if (error instanceof AppError && error.code !== 'DEPENDENCY_UNAVAILABLE') throw error;
      this.log.warn({ err: { message: (error as Error).message } }, 'revocation.redis_unavailable');
      facts = await this.readMongo(query);
    }
    judge(query, facts);
  }

  private async readRedis(query: RevocationQuery): Promise<Facts> {
    if (this.mirrorStale) await this.dropStaleMirror().catch((error: unknown) => Promise.reject(storeError(error)));
    const result = await this.readFacts(query);
    const replayed = query.once !== undefined && !result.claimed;
    if (!result.epoch) {
      await this.rebuild();
      // The once-key was already claimed (or found taken) by the first round trip.
      const again = await this.readRedisAfterRebuild({ ...query, once: undefined });
      return { ...again, replayed };
    }
    return {
      user: result.user ?? (await this.loadUser(query.userId)),
      denied: result.denied,
      sessionRevoked: result.sessionRevoked,
      replayed,
    };
  }

  private async readRedisAfterRebuild(query: RevocationQuery): Promise<Facts> {
    const result = await this.readFacts(query);
    if (!result.epoch) return this.readMongo(query);
    return {
      user: result.user ?? (await this.loadUser(query.userId)),
      denied: result.denied,
      sessionRevoked: result.sessionRevoked,
      replayed: false,
    };
  }

  /** One check's facts from the shared script call; a chained promise, not an async frame of its own. */
  private readFacts(query: RevocationQuery): Promise<FactsReply> {
    return this.facts
      .read({ user: `auth:user:${query.userId}`, deny: `deny:${query.jti}`, session: `rs:${query.sid ?? '-'}`, once: query.once })
      .catch((error: unknown) => {
        this.health.failed();
        throw storeError(error);
      });
  }

  /** A user not mirrored yet: read MongoDB once and mirror it. */
  private async loadUser(userId: string): Promise<UserFacts | null> {
    const user = await guardStore(() => this.users.findOne({ _id: userId }, { projection: { tokenVersion: 1, status: 1 } }));
    if (!user) return null;
    await this.mirrorUser(userId, user).catch(() => undefined);
    return user;
  }

  private async readMongo(query: RevocationQuery): Promise<Facts> {
    if (query.once) throw new AppError('DEPENDENCY_UNAVAILABLE');
    const [user, denied, session] = await Promise.all([
      guardStore(() => this.users.findOne({ _id: query.userId }, { projection: { tokenVersion: 1, status: 1 } })),
      guardStore(() => this.revoked.findOne({ _id: query.jti })),
      query.sid ? guardStore(() => this.sessions.findOne({ _id: query.sid as string }, { projection: { revokedAt: 1 } })) : null,
    ]);
    return { user, denied: denied !== null, sessionRevoked: query.sid ? !session || session.revokedAt !== null : false, replayed: false };
  }

  /** Deletes the epoch so that every instance rebuilds from MongoDB before trusting Redis again. */
  private async dropStaleMirror(): Promise<void> {
    if (!this.mirrorStale) return;
    await this.redis.del(EPOCH_KEY);
    this.mirrorStale = false;
  }

  /** Copies the durable denylist and revoked sessions back into an emptied Redis, once at a time. */
  private rebuild(): Promise<void> {
    this.rebuilding ??= this.doRebuild().finally(() => {
      this.rebuilding = null;
    });
    return this.rebuilding;
  }

  private async doRebuild(): Promise<void> {
    const now = this.clock.now();
    const [tokens, sessions] = await Promise.all([
      guardStore(() => this.revoked.find({ expiresAt: { $gt: now } }).toArray()),
      guardStore(() =>
        this.sessions
          .find({ revokedAt: { $ne: null }, absoluteExpiresAt: { $gt: now } }, { projection: { absoluteExpiresAt: 1 } })
          .toArray(),
      ),
    ]);
    // Mirrored users are dropped: their facts are re-read from MongoDB on next use. (A wiped
    // Redis has none; one that missed changes while unreachable may hold an old tokenVersion.)
    await this.dropMirroredUsers();
    const pipeline = this.redis.pipeline();
    for (const token of tokens) pipeline.set(`deny:${token._id}`, '1', 'PX', ttlMs(token.expiresAt, now));
    for (const session of sessions) pipeline.set(`rs:${session._id}`, '1', 'PX', ttlMs(session.absoluteExpiresAt, now));
    pipeline.set(EPOCH_KEY, String(now.getTime()));
    try {
      await pipeline.exec();
    } catch (error) {
      throw storeError(error);
    }
    this.log.info({ tokens: tokens.length, sessions: sessions.length }, 'revocation.rebuilt');
  }

  private async dropMirroredUsers(): Promise<void> {
    try {
      const keys = await scanKeys(this.redis, 'auth:user:*');
      for (let i = 0; i < keys.length; i += 1000) await this.redis.del(...keys.slice(i, i + 1000));
    } catch (error) {
      throw storeError(error);
    }
  }

  /** Puts a jti on the denylist until the token would expire anyway. */
  async denyToken(jti: string, expiresAt: Date): Promise<void> {
    try {
      await guardStore(() => this.revoked.insertOne({ _id: jti, expiresAt }));
    } catch (error) {
      if (!isDuplicateKey((error as AppError).cause)) {
        await this.distrust();
        throw error;
      }
    }
    await this.mirror((pipeline) => pipeline.set(`deny:${jti}`, '1', 'PX', ttlMs(expiresAt, this.clock.now())), { jti });
  }

  /** Mirrors a session revocation MongoDB already holds. */
  async sessionsRevoked(sessions: { id: string; absoluteExpiresAt: Date }[]): Promise<void> {
    if (sessions.length === 0) return;
    const now = this.clock.now();
    await this.mirror(
      (pipeline) => {
        for (const session of sessions) pipeline.set(`rs:${session.id}`, '1', 'PX', ttlMs(session.absoluteExpiresAt, now));
      },
      { sessions: sessions.map((s) => s.id) },
    );
  }

  /** Mirrors a user's new tokenVersion / status, which MongoDB already holds. */
  async userChanged(userId: string, facts: UserFacts): Promise<void> {
    await this.mirror(
      (pipeline) => {
        pipeline.hset(`auth:user:${userId}`, 'tokenVersion', String(facts.tokenVersion), 'status', facts.status);
        pipeline.expire(`auth:user:${userId}`, USER_TTL_SECONDS);
      },
      { userId },
    );
  }

  /**
   * Fills a missing mirror with what a read found in MongoDB. HSETNX, not HSET: a change that
   * landed between that read and this write (userChanged overwrites) must not be undone by it.
   */
  private async mirrorUser(userId: string, facts: UserFacts): Promise<void> {
    await this.redis
      .pipeline()
      .hsetnx(`auth:user:${userId}`, 'tokenVersion', String(facts.tokenVersion))
      .hsetnx(`auth:user:${userId}`, 'status', facts.status)
      .expire(`auth:user:${userId}`, USER_TTL_SECONDS)
      .exec();
  }

  /**
   * Writes to the Redis mirror and announces the change. If the write fails, the epoch is
   * deleted (best effort) so every instance rebuilds from MongoDB instead of trusting a stale
   * mirror, and the caller gets a 503: the change is durable, the caller may retry.
   *
   * With replicas (REDIS_WAIT_REPLICAS), the write must also reach them, or a failover could
   * promote a replica without it. When fewer acknowledge in time (a replica down, or none left
   * after a failover), the change still stands: the epoch goes, so every instance answers from
   * MongoDB until the mirror is rebuilt (docs/redis.md).
   */
  private async mirror(write: (pipeline: ReturnType<Redis['pipeline']>) => void, announcement: Record<string, unknown>): Promise<void> {
    let replicated = true;
    try {
      const pipeline = this.redis.pipeline();
      write(pipeline);
      pipeline.publish(this.channel, JSON.stringify(announcement));
      const replies = await pipeline.exec();
      // Throw the command's own error (e.g. the connection is down) so it maps to a 503, not a 500.
      if (!replies || replies.some(([error]) => error)) throw replies?.find(([error]) => error)?.[0] ?? new Error('empty pipeline reply');
      replicated = await waitForReplicas(this.redis, this.waitReplicas);
    } catch (error) {
      await this.distrust();
      throw storeError(error);
    }
    if (!replicated) {
      this.log.warn({ replicas: this.waitReplicas }, 'revocation.replicas_behind');
      await this.distrust();
    }
  }

  /**
   * No instance trusts the mirror until it is rebuilt from MongoDB: the epoch goes, now or on
   * reconnect. Also for a revocation whose MongoDB write lost its answer (it may have landed
   * without its mirror): the rebuild copies whatever MongoDB holds.
   */
  async distrust(): Promise<void> {
    const dropped = await this.redis.del(EPOCH_KEY).then(
      () => true,
      () => false,
    );
    if (!dropped) this.mirrorStale = true;
  }
}

function judge(query: RevocationQuery, facts: Facts): void {
  if (!facts.user) throw new AppError('TOKEN_INVALID');
  if (facts.user.status !== 'active') throw new AppError('TOKEN_ACCOUNT_DISABLED');
  if (facts.user.tokenVersion !== query.tokenVersion || facts.denied || facts.sessionRevoked) throw new AppError('TOKEN_REVOKED');
  if (facts.replayed) throw new AppError('DPOP_PROOF_INVALID', { cause: new Error('replayed proof') });
}

function ttlMs(until: Date, now: Date): number {
  return Math.max(1000, until.getTime() - now.getTime());
}

/** The sweeper's part for the denylist: entries of tokens that have expired anyway. Returns how many went. */
export async function sweepDenylist(db: Db, now: Date): Promise<number> {
  const removed = await guardStore(() => db.collection<RevokedToken>(COLLECTIONS.revokedTokens).deleteMany({ expiresAt: { $lt: now } }));
  return removed.deletedCount;
}
