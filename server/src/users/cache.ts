import type { Redis } from 'ioredis';
import type { Deps } from '../context.js';
import type { Logger } from '../log/index.js';
import { duplicateForSubscribe } from '../store/index.js';
import { invalidationChannel } from '../tokens/index.js';
import type { User } from './store.js';

/**
 * A per-instance cache of user records for the hot read routes (`GET /api/v1/me`), so that an
 * authenticated request touches no MongoDB (docs/benchmarks.md). It is only a copy of what the
 * route shows: whether a token is still good (status, tokenVersion, revoked sessions) is still
 * asked of Redis on every request by the authenticator, so the cache cannot let a disabled or
 * revoked principal through.
 *
 * Every change to a user is announced on the invalidation channel (tokens/invalidation.ts,
 * `{ userId }`); each instance listens on its own connection and drops the entry. The cache is
 * trusted only while that subscription is up: when the connection drops, entries are cleared
 * and every read goes to MongoDB until the channel is subscribed again (fail closed: an
 * announcement missed while disconnected must not leave a stale copy). A generation counter
 * keeps a read that raced with an announcement from storing what it read.
 */
export class UserCache {
  private readonly entries = new Map<string, { user: User; until: number }>();
  private subscribed = false;
  private generation = 0;
  private readonly subscriber: Redis | null;

  constructor(
    redis: Redis,
    channel: string,
    private readonly ttlMs: number,
    log: Logger,
    private readonly maxEntries = 10_000,
  ) {
    if (ttlMs <= 0) {
      this.subscriber = null;
      return;
    }
    // The project's one way to open a subscriber: a Cluster duplicates differently from one server.
    const subscriber = duplicateForSubscribe(redis, { autoResubscribe: false });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    const distrust = () => {
      this.subscribed = false;
      this.clear();
    };
    subscriber.on('close', distrust);
    subscriber.on('end', distrust);
    subscriber.on('reconnecting', distrust);
    subscriber.on('ready', () => {
      subscriber.subscribe(channel).then(
        () => {
          // Whatever was announced while unsubscribed is unknown: start empty.
          this.clear();
          this.subscribed = true;
        },
        (error: Error) => log.warn({ err: { message: error.message } }, 'user_cache.subscribe_failed'),
      );
    });
    subscriber.on('message', (received: string, message: string) => {
      if (received !== channel) return;
      this.onMessage(message);
    });
  }

  /** Whether reads may be answered from the cache right now (test and metrics hook). */
  get trusted(): boolean {
    return this.subscribed;
  }

  /** The user from the cache, or read through `load` (and kept, if nothing changed meanwhile). */
  async get(userId: string, load: () => Promise<User | null>): Promise<User | null> {
    if (!this.subscribed) return load();
    const hit = this.entries.get(userId);
    if (hit && hit.until > Date.now()) return hit.user;
    const generation = this.generation;
    const user = await load();
    if (user && this.subscribed && generation === this.generation) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(userId, { user, until: Date.now() + this.ttlMs });
    }
    return user;
  }

  close(): void {
    this.subscribed = false;
    this.subscriber?.disconnect();
  }

  private onMessage(message: string): void {
    this.generation++;
    let announcement: Record<string, unknown> | null = null;
    try {
      announcement = JSON.parse(message) as Record<string, unknown>;
    } catch {
      announcement = null;
    }
    if (typeof announcement?.userId === 'string') this.entries.delete(announcement.userId);
    // A denied jti, revoked sessions or new keys change no user record; anything else clears all.
    else if (!announcement || !('jti' in announcement || 'sessions' in announcement || 'keys' in announcement)) this.clear();
  }

  private clear(): void {
    this.generation++;
    this.entries.clear();
  }
}

/**
 * Announces that a user record changed, so every instance drops its cached copy. Best effort:
 * the cache holds only what `/api/v1/me` shows (never the facts that decide whether a token is
 * good), and its entries expire after USER_CACHE_SECONDS anyway.
 */
export function userChangeAnnouncer(deps: Pick<Deps, 'redis' | 'config' | 'log'>): (userId: string) => Promise<void> {
  const channel = invalidationChannel(deps.config.REDIS_KEY_PREFIX);
  return async (userId) => {
    await deps.redis.publish(channel, JSON.stringify({ userId })).catch((error: Error) => {
      deps.log.warn({ err: { message: error.message } }, 'user_cache.announce_failed');
    });
  };
}
