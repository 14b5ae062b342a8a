import type { Redis } from 'ioredis';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors/index.js';
import { consumePoint, createLimiter, type Limiter, rateLimitKey } from '../http/index.js';

/**
 * How many wrong pairing codes may be typed: per address, per signed-in user and across
 * everyone, per hour (docs/security-tests.md P1). A point is taken from all three before the code is
 * even looked up, so a burst of parallel guesses cannot outrun the count, and handed back when
 * the code was right. When Redis is down the in-memory limiters stand in (never fully open).
 */
export class CodeAttempts {
  private readonly perAddress: Limiter;
  private readonly perUser: Limiter;
  private readonly global: Limiter;

  constructor(
    redis: Redis,
    perHour: number,
    globalPerHour: number,
    /** Called once when a budget runs out, with its name: the alert in the audit log. */
    private readonly onTrip: (budget: string) => void,
  ) {
    this.perAddress = createLimiter(redis, 'pair-code-ip', perHour, 3600);
    this.perUser = createLimiter(redis, 'pair-code-user', perHour, 3600);
    this.global = createLimiter(redis, 'pair-code-all', globalPerHour, 3600);
  }

  /** Takes a point from every budget; 429 with Retry-After when one is spent. */
  async take(ip: string, userId: string): Promise<void> {
    for (const [limiter, key] of this.budgets(ip, userId)) {
      try {
        await consumePoint(limiter, key);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw new AppError('DEPENDENCY_UNAVAILABLE', { cause: rejection });
        if (rejection.consumedPoints === limiter.points + 1)
          this.onTrip(limiter === this.global ? 'pair-code-global' : limiter === this.perUser ? 'pair-code-user' : 'pair-code-address');
        const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new AppError('RATE_LIMITED', { headers: { 'Retry-After': String(retryAfter) } });
      }
    }
  }

  /** Gives the points back after a correct code: only failures count. */
  async refund(ip: string, userId: string): Promise<void> {
    await Promise.all(
      this.budgets(ip, userId).map(async ([limiter, key]) => {
        try {
          await (limiter.health.available ? limiter.shared : limiter.local).reward(key, 1);
        } catch {
          // A refund that fails only makes the limit stricter.
        }
      }),
    );
  }

  private budgets(ip: string, userId: string): [Limiter, string][] {
    return [
      [this.perAddress, rateLimitKey(ip)],
      [this.perUser, userId],
      [this.global, 'all'],
    ];
  }
}
