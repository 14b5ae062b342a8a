import type { Redis } from 'ioredis';
import type { Logger } from '../log/index.js';
import { duplicateForSubscribe } from './redis.js';

/** What an announcement on the invalidation channel means for one cache. */
export type Affected = { key: string } | 'nothing' | 'everything';

/**
 * One subscription to the invalidation channel, shared by the per-instance caches that depend
 * on it (the user cache, the session-list cache). The caches are trusted only while it is up:
 * when the connection drops every cache is cleared and bypassed, and after subscribing again
 * they start empty — an announcement missed while disconnected must never leave a stale copy.
 */
export class CacheSubscription {
  private subscribed = false;
  private readonly caches: AnnouncedCache<unknown>[] = [];
  /** The subscriber connection (tests cut it to show the caches fail closed). */
  readonly subscriber: Redis;

  constructor(redis: Redis, channel: string, log: Logger) {
    // The project's one way to open a subscriber: a Cluster duplicates differently from one server.
    const subscriber = duplicateForSubscribe(redis, { autoResubscribe: false });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    const distrust = () => {
      this.subscribed = false;
      for (const cache of this.caches) cache.clear();
    };
    subscriber.on('close', distrust);
    subscriber.on('end', distrust);
    subscriber.on('reconnecting', distrust);
    subscriber.on('ready', () => {
      subscriber.subscribe(channel).then(
        () => {
          // Whatever was announced while unsubscribed is unknown: start empty.
          for (const cache of this.caches) cache.clear();
          this.subscribed = true;
        },
        (error: Error) => log.warn({ err: { message: error.message } }, 'cache.subscribe_failed'),
      );
    });
    subscriber.on('message', (received: string, message: string) => {
      if (received !== channel) return;
      let announcement: Record<string, unknown> | null = null;
      try {
        announcement = JSON.parse(message) as Record<string, unknown>;
      } catch {
        announcement = null;
      }
      for (const cache of this.caches) cache.announced(announcement);
    });
  }

  get trusted(): boolean {
    return this.subscribed;
  }

  add(cache: AnnouncedCache<unknown>): void {
    this.caches.push(cache);
  }

  close(): void {
    this.subscribed = false;
    this.subscriber.disconnect();
  }
}

/**
 * A per-instance cache whose entries every instance drops when a change is announced on the
 * invalidation channel (docs/benchmarks.md "What each change bought"). Entries also expire after
 * `ttlMs`. A generation counter keeps a read that raced with an announcement from storing what
 * it read. With no subscription (ttl 0) every read goes to `load`.
 */
export class AnnouncedCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();
  private generation = 0;

  constructor(
    private readonly subscription: CacheSubscription | null,
    private readonly ttlMs: number,
    private readonly affected: (announcement: Record<string, unknown> | null) => Affected,
    private readonly maxEntries = 10_000,
  ) {
    if (ttlMs > 0) subscription?.add(this as AnnouncedCache<unknown>);
  }

  /** Whether reads may be answered from the cache right now. */
  get trusted(): boolean {
    return this.ttlMs > 0 && (this.subscription?.trusted ?? false);
  }

  /** The value from the cache, or read through `load` (and kept, if nothing changed meanwhile and `keep` agrees). */
  async get(key: string, load: () => Promise<T | null>, keep: (value: T) => boolean = () => true): Promise<T | null> {
    if (!this.trusted) return load();
    const hit = this.entries.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    const generation = this.generation;
    const value = await load();
    if (value !== null && keep(value) && this.trusted && generation === this.generation) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { value, until: Date.now() + this.ttlMs });
    }
    return value;
  }

  announced(announcement: Record<string, unknown> | null): void {
    const affected = this.affected(announcement);
    if (affected === 'nothing') return;
    this.generation++;
    if (affected === 'everything') this.entries.clear();
    else this.entries.delete(affected.key);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
