import type { Redis } from 'ioredis';
import { AppError, storeError } from '../errors/index.js';

/** After a Redis failure, callers skip Redis for this long instead of each waiting out its timeout. */
const COOL_DOWN_MS = 2000;

/**
 * A small circuit breaker shared by everything that uses one Redis client. A frozen Redis
 * (SIGSTOP, a network partition) answers nothing: every command would wait the full command
 * timeout, and a request that touches Redis three times would take three timeouts. The first
 * failure opens the breaker; for a short cool-down the rate limiter uses its in-memory
 * fallback, revocation checks read MongoDB, and sign-in fails closed at once. Then the next
 * caller tries Redis again.
 */
export class RedisHealth {
  private failedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly redis: Redis) {}

  get available(): boolean {
    return this.redis.status === 'ready' && Date.now() - this.failedAt > COOL_DOWN_MS;
  }

  failed(): void {
    this.failedAt = Date.now();
  }

  /**
   * Runs a Redis command for a flow that must fail closed without Redis (sign-in state,
   * replay caches): refused at once while the breaker is open, and a failure opens it.
   */
  async failClosed<T>(command: () => Promise<T>): Promise<T> {
    if (!this.available) throw new AppError('DEPENDENCY_UNAVAILABLE');
    try {
      return await command();
    } catch (error) {
      this.failed();
      throw storeError(error);
    }
  }
}

const breakers = new WeakMap<Redis, RedisHealth>();

/** The breaker of a Redis client (one per client, shared by all its users). */
export function redisHealth(redis: Redis): RedisHealth {
  let health = breakers.get(redis);
  if (!health) {
    health = new RedisHealth(redis);
    breakers.set(redis, health);
  }
  return health;
}
