import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors/index.js';
import type { Step } from './state.js';

/**
 * A per-address limiter in Redis, shared by every instance. When Redis is down the in-memory
 * insurance limiter takes over with the same limits per instance, so limits never open fully.
 */
export function createLimiter(redis: Redis, name: string, pointsPerMinute: number): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `rl:${name}`,
    points: pointsPerMinute,
    duration: 60,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: `rl-mem:${name}`, points: pointsPerMinute, duration: 60 }),
  });
}

/** Consumes one point for the client address; 429 with Retry-After when none are left. */
export function rateLimit(limiter: RateLimiterRedis, onTrip?: (ip: string) => void): Step {
  return async (ctx, next) => {
    try {
      await limiter.consume(ctx.state.clientIp);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        if (rejection.consumedPoints === limiter.points + 1) onTrip?.(ctx.state.clientIp);
        const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new AppError('RATE_LIMITED', { headers: { 'Retry-After': String(retryAfter) } });
      }
      throw new AppError('DEPENDENCY_UNAVAILABLE', { cause: rejection });
    }
    await next();
  };
}
