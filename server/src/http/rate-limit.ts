import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RequestMeta } from '../context.js';
import { AppError } from '../errors/index.js';
import { type RedisHealth, redisHealth } from '../store/index.js';
import { requestMeta } from './request-context.js';
import type { AppContext, Step } from './state.js';

/**
 * A per-address limiter in Redis, shared by every instance, and an in-memory fallback with
 * the same limits per instance for when Redis is down, so limits never open fully. The
 * fallback is ours rather than the library's insurance limiter so that a Redis failure also
 * opens the shared breaker (see store/redis-health.ts).
 */
export interface Limiter {
  shared: RateLimiterRedis;
  local: RateLimiterMemory;
  health: RedisHealth;
  points: number;
}

export function createLimiter(redis: Redis, name: string, points: number, durationSeconds = 60): Limiter {
  return {
    shared: new RateLimiterRedis({ storeClient: redis, keyPrefix: `rl:${name}`, points, duration: durationSeconds }),
    local: new RateLimiterMemory({ keyPrefix: `rl-mem:${name}`, points, duration: durationSeconds }),
    health: redisHealth(redis),
    points,
  };
}

/**
 * Consumes one point for the client address (or the key `keyOf` gives, e.g. one global key);
 * 429 with Retry-After when none are left.
 */
export function rateLimit(limiter: Limiter, onTrip?: (meta: RequestMeta) => void, keyOf?: (ctx: AppContext) => string): Step {
  return async (ctx, next) => {
    try {
      await consumePoint(limiter, keyOf ? keyOf(ctx) : ctx.state.clientIp);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw new AppError('DEPENDENCY_UNAVAILABLE', { cause: rejection });
      if (rejection.consumedPoints === limiter.points + 1) onTrip?.(requestMeta(ctx));
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new AppError('RATE_LIMITED', { headers: { 'Retry-After': String(retryAfter) } });
    }
    await next();
  };
}

/** Consumes one point in Redis, or in memory while Redis is down; rejects with RateLimiterRes when spent. */
export async function consumePoint(limiter: Limiter, key: string): Promise<RateLimiterRes> {
  if (!limiter.health.available) return limiter.local.consume(key);
  try {
    return await limiter.shared.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw rejection;
    limiter.health.failed();
    return limiter.local.consume(key);
  }
}
