import type { Redis } from 'ioredis';
import { sha256 } from '../crypto/index.js';
import { AppError, guardStore } from '../errors/index.js';

/** Failures allowed before backoff starts, and the longest wait (never a permanent lock, A3). */
const FREE_FAILURES = 5;
const MAX_DELAY_SECONDS = 15 * 60;
const FAILURE_MEMORY_SECONDS = 3600;

/**
 * Exponential backoff per account and per address, in Redis. After FREE_FAILURES failures the
 * key is blocked for 1, 2, 4 … seconds, capped at 15 minutes, and the count is forgotten an hour
 * after the last failure: an attacker can slow a victim's password sign-in down, never lock it
 * for good. Redis errors propagate (fail closed: no password check without the limiter).
 */
export class LoginBackoff {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'pwlimit',
  ) {}

  private keys(kind: 'account' | 'address', value: string) {
    const id = sha256(`${kind}:${value}`);
    return { fails: `${this.prefix}:f:${id}`, block: `${this.prefix}:b:${id}` };
  }

  async assertAllowed(account: string, address: string): Promise<void> {
    const blocked = await guardStore(() => this.redis.exists(this.keys('account', account).block, this.keys('address', address).block));
    if (blocked > 0) throw new AppError('RATE_LIMITED');
  }

  recordFailure(account: string, address: string): Promise<void> {
    return guardStore(() => this.countFailure(account, address));
  }

  private async countFailure(account: string, address: string): Promise<void> {
    for (const keys of [this.keys('account', account), this.keys('address', address)]) {
      const fails = await this.redis.incr(keys.fails);
      await this.redis.expire(keys.fails, FAILURE_MEMORY_SECONDS);
      if (fails > FREE_FAILURES) {
        const delay = Math.min(2 ** (fails - FREE_FAILURES - 1), MAX_DELAY_SECONDS);
        await this.redis.set(keys.block, '1', 'EX', delay);
      }
    }
  }

  async recordSuccess(account: string): Promise<void> {
    const keys = this.keys('account', account);
    await guardStore(() => this.redis.del(keys.fails, keys.block));
  }
}
