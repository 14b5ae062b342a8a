import type { Redis } from 'ioredis';
import { sha256 } from '../crypto/index.js';
import { type RedisHealth, redisHealth } from '../store/index.js';

/**
 * The `jti`s of accepted logout tokens, per provider, in Redis until the token could no longer
 * pass the `iat` check anyway. Contract: `claim` is atomic (SET NX) — of two deliveries of one
 * token, even concurrent ones on two instances, exactly one gets true. Redis down means the
 * token can't be checked for replay, so it is not honoured: 503, and the provider retries.
 */
export class LogoutTokenReplayStore {
  private readonly health: RedisHealth;

  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {
    this.health = redisHealth(redis);
  }

  /** True the first time this provider's `jti` is seen within the TTL. */
  async claim(providerId: string, jti: string): Promise<boolean> {
    const answer = await this.health.failClosed(() => this.redis.set(key(providerId, jti), '1', 'EX', this.ttlSeconds, 'NX'));
    return answer === 'OK';
  }

  /** Forgets a claimed `jti`, when the sessions could not be ended and the provider should retry. */
  async release(providerId: string, jti: string): Promise<void> {
    await this.health.failClosed(() => this.redis.del(key(providerId, jti)));
  }
}

function key(providerId: string, jti: string): string {
  return `oidc:bcl-jti:${providerId}:${sha256(jti)}`;
}
