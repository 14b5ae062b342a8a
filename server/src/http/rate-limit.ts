import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RequestMeta } from '../context.js';
import { AppError } from '../errors/index.js';
import { type RedisHealth, redisHealth } from '../store/index.js';
import { rateLimitKey } from './client-ip.js';
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
 * The general per-address limit (docs/security-model.md "Rate limits"). Every request counts
 * against a budget kept in this instance's memory — no Redis round trip on the hot path, and each
 * instance protects its own capacity — and every refusal it answers (a 4xx: a wrong credential,
 * an unknown code, malformed input) also counts against the same budget shared by all instances
 * in Redis, so guessing spread over many instances stays bounded. An instance that finds the
 * shared budget spent blocks the address in its memory until the window ends: each other
 * instance lets at most one more refusal through before it learns the same.
 */
export function generalRateLimit(failures: Limiter, durationSeconds: number, onTrip?: (meta: RequestMeta) => void): Step {
  const requests = new RateLimiterMemory({ keyPrefix: 'rl-req:general', points: failures.points, duration: durationSeconds });
  return async (ctx, next) => {
    const key = rateLimitKey(ctx.state.clientIp);
    try {
      await requests.consume(key);
    } catch (rejection) {
      throw limited(ctx, rejection as RateLimiterRes, failures.points, onTrip);
    }
    let status: number;
    try {
      await next();
      status = ctx.status;
    } catch (error) {
      status = statusOf(error);
      if (isRefusal(status)) await chargeRefusal(ctx, key);
      throw error;
    }
    if (isRefusal(status)) await chargeRefusal(ctx, key);
  };

  async function chargeRefusal(ctx: AppContext, key: string): Promise<void> {
    try {
      await consumePoint(failures, key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw new AppError('DEPENDENCY_UNAVAILABLE', { cause: rejection });
      // The shared budget is spent: refuse this address here until its window ends.
      await requests.block(key, Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
      if (rejection.consumedPoints === failures.points + 1) onTrip?.(requestMeta(ctx));
    }
  }
}

/** The 429 for a spent budget; the first refusal of a window is reported to `onTrip` (audited). */
function limited(ctx: AppContext, rejection: RateLimiterRes, points: number, onTrip?: (meta: RequestMeta) => void): AppError {
  if (rejection.consumedPoints === points + 1) onTrip?.(requestMeta(ctx));
  const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
  return new AppError('RATE_LIMITED', { headers: { 'Retry-After': String(retryAfter) } });
}

/** 4xx answers other than 429 (a limit's own refusal is not counted twice). */
function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 429;
}

function statusOf(error: unknown): number {
  if (error instanceof AppError) return error.status;
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : 500;
}

/**
 * Consumes one point for the client address (or the key `keyOf` gives, e.g. one global key);
 * 429 with Retry-After when none are left.
 */
export function rateLimit(limiter: Limiter, onTrip?: (meta: RequestMeta) => void, keyOf?: (ctx: AppContext) => string): Step {
  return async (ctx, next) => {
    try {
      await consumePoint(limiter, keyOf ? keyOf(ctx) : rateLimitKey(ctx.state.clientIp));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw new AppError('DEPENDENCY_UNAVAILABLE', { cause: rejection });
      throw limited(ctx, rejection, limiter.points, onTrip);
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
