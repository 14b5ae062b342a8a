import type { Redis } from 'ioredis';
import type { Deps } from '../context.js';
import type { Logger } from '../log/index.js';
import { duplicateForSubscribe } from '../store/index.js';

/**
 * The pub/sub channel that tells every instance something changed. ioredis does not prefix
 * channel names, so the key prefix is added here to keep deployments sharing a Redis apart.
 */
export function invalidationChannel(keyPrefix: string): string {
  return `${keyPrefix}invalidate`;
}

/**
 * A best-effort announcer of changes that only per-instance caches depend on (a user record, a
 * user's session list): a lost announcement leaves a copy for at most its cache's lifetime and
 * never decides whether a token is good. Logs `event` when the publish fails.
 */
export function cacheAnnouncer(
  deps: Pick<Deps, 'redis' | 'config' | 'log'>,
  event: string,
): (announcement: Record<string, string>) => Promise<void> {
  const channel = invalidationChannel(deps.config.REDIS_KEY_PREFIX);
  return async (announcement) => {
    await deps.redis.publish(channel, JSON.stringify(announcement)).catch((error: Error) => {
      deps.log.warn({ err: { message: error.message } }, event);
    });
  };
}

export async function announceKeysChanged(deps: Pick<Deps, 'redis' | 'config' | 'log'>): Promise<void> {
  // Best effort: instances also re-read the ring every KEYRING_REFRESH_SECONDS.
  await deps.redis.publish(invalidationChannel(deps.config.REDIS_KEY_PREFIX), JSON.stringify({ keys: true })).catch((error) => {
    deps.log.warn({ err: { message: (error as Error).message } }, 'keyring.announce_failed');
  });
}

/**
 * Listens for announcements on a dedicated connection (a subscribed Redis connection can do
 * nothing else). Revocation needs no handler: nothing revocation-related is cached in-process,
 * every request asks Redis. Keys are reloaded at once.
 */
export function listenForInvalidation(redis: Redis, keyPrefix: string, log: Logger, onKeysChanged: () => Promise<void>): Redis {
  const subscriber = duplicateForSubscribe(redis);
  const channel = invalidationChannel(keyPrefix);
  subscriber.on('error', () => undefined);
  subscriber.subscribe(channel).catch((error) => log.warn({ err: { message: (error as Error).message } }, 'invalidation.subscribe_failed'));
  subscriber.on('message', (received: string, message: string) => {
    if (received !== channel) return;
    try {
      if ((JSON.parse(message) as { keys?: unknown }).keys === true) {
        onKeysChanged().catch((error) => log.warn({ err: error }, 'keyring.reload_failed'));
      }
    } catch {
      log.warn('invalidation.bad_message');
    }
  });
  return subscriber;
}
