import type { Deps } from '../context.js';
import { type Affected, AnnouncedCache, type CacheSubscription } from '../store/index.js';
import { cacheAnnouncer } from '../tokens/index.js';
import type { User } from './store.js';

/**
 * A per-instance cache of user records for the hot read routes (`GET /api/v1/me`), so that an
 * authenticated request touches no MongoDB (docs/benchmarks.md). It is only a copy of what the
 * route shows: whether a token is still good (status, tokenVersion, revoked sessions) is still
 * asked of Redis on every request by the authenticator, so the cache cannot let a disabled or
 * revoked principal through.
 *
 * Every change to a user is announced on the invalidation channel (tokens/invalidation.ts,
 * `{ userId }`); each instance drops its copy (store/announced-cache.ts: trusted only while
 * the subscription is up, empty after it comes back).
 */
export class UserCache extends AnnouncedCache<User> {
  constructor(subscription: CacheSubscription | null, ttlMs: number, maxEntries = 10_000) {
    super(subscription, ttlMs, affectedUser, maxEntries);
  }
}

function affectedUser(announcement: Record<string, unknown> | null): Affected {
  if (typeof announcement?.userId === 'string') return { key: announcement.userId };
  // A denied jti, revoked sessions, a session list or new keys change no user record; anything else clears all.
  if (announcement && ('jti' in announcement || 'sessions' in announcement || 'sessionsOf' in announcement || 'keys' in announcement))
    return 'nothing';
  return 'everything';
}

/**
 * Announces that a user record changed, so every instance drops its cached copy. Best effort:
 * the cache holds only what `/api/v1/me` shows (never the facts that decide whether a token is
 * good), and its entries expire after USER_CACHE_SECONDS anyway.
 */
export function userChangeAnnouncer(deps: Pick<Deps, 'redis' | 'config' | 'log'>): (userId: string) => Promise<void> {
  const announce = cacheAnnouncer(deps, 'user_cache.announce_failed');
  return (userId) => announce({ userId });
}
