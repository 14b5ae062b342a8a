import { Redis } from 'ioredis';

/**
 * A Redis client that fails fast: commands time out after `timeoutMs`, and while the
 * connection is down commands are rejected at once instead of queueing, so callers can fall
 * back to MongoDB or answer 503 within the timeout (DESIGN.md failure policy).
 */
export function createRedis(url: string, options: { timeoutMs: number; keyPrefix: string }): Redis {
  return new Redis(url, {
    keyPrefix: options.keyPrefix,
    commandTimeout: options.timeoutMs,
    connectTimeout: Math.max(options.timeoutMs, 1000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: false,
    // Keep reconnecting in the background (capped backoff) so recovery is automatic.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  });
}

/** Waits until the client is ready, or fails after `timeoutMs`. */
export function redisReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('Redis did not become ready in time'));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
