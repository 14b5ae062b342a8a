import { type Affected, AnnouncedCache, type CacheSubscription } from '../store/index.js';
import type { SessionRecord } from './store.js';

/**
 * Users with more sessions not yet revoked than this are listed straight from the store, page by
 * page: the cache keeps whole lists, and a list this long is not what the hot path serves.
 */
export const LIST_CACHE_MAX_SESSIONS = 1_000;

/**
 * A per-instance copy of each user's sessions not yet revoked, newest first, for the session
 * list (`GET /api/v1/me/sessions`, the account page, the extension popup). On FerretDB the
 * listing query runs its filter, sort and limit outside PostgreSQL and reads every session of
 * the user (docs/benchmarks.md); from the copy, a page is a filter by expiry and a slice.
 *
 * Every write to a user's sessions — one created, revoked or seen again — is announced on the
 * invalidation channel as `{ sessionsOf: userId }` (`{ userId }` too, for deletion), and every
 * instance drops its copy; entries also expire after USER_CACHE_SECONDS. The list is only what is
 * shown: whether a session's token is still good is asked of Redis on every request.
 */
export class SessionListCache extends AnnouncedCache<SessionRecord[]> {
  constructor(subscription: CacheSubscription | null, ttlMs: number, maxEntries = 10_000) {
    super(subscription, ttlMs, affectedList, maxEntries);
  }
}

function affectedList(announcement: Record<string, unknown> | null): Affected {
  if (typeof announcement?.sessionsOf === 'string') return { key: announcement.sessionsOf };
  if (typeof announcement?.userId === 'string') return { key: announcement.userId };
  // A denied jti, revoked sessions (their owner's list is announced apart) or new keys.
  if (announcement && ('jti' in announcement || 'sessions' in announcement || 'keys' in announcement)) return 'nothing';
  return 'everything';
}

/** One page of `all` (newest first) as the store's listing query would give it. */
export function pageOf(all: SessionRecord[], now: Date, limit: number, before?: { createdAt: Date; id: string }): SessionRecord[] {
  const page: SessionRecord[] = [];
  for (const record of all) {
    if (record.idleExpiresAt <= now || record.absoluteExpiresAt <= now) continue;
    if (before) {
      const created = record.createdAt.getTime();
      const cursor = before.createdAt.getTime();
      if (created > cursor || (created === cursor && record._id >= before.id)) continue;
    }
    page.push(record);
    if (page.length === limit) break;
  }
  return page;
}
