import type { Redis } from 'ioredis';
import { z } from 'zod';
import { sha256 } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import { type RedisHealth, redisHealth } from '../store/index.js';

/** What a started sign-in remembers until the provider sends the browser back. */
const loginStateSchema = z.strictObject({
  providerId: z.string(),
  issuer: z.string(),
  codeVerifier: z.string(),
  nonce: z.string(),
  returnTo: z.string().nullable(),
  browserBinding: z.string(),
  createdAt: z.number().int(),
  /** The invitation this sign-in follows (docs/invitations.md), if any. */
  invitationId: z.string().nullable().default(null),
});
export type LoginState = z.infer<typeof loginStateSchema>;

/**
 * Sign-in state in Redis under the hash of the `state` value, with a TTL. It is consumed with
 * GETDEL, so a state (and with it the PKCE verifier and nonce) can be used once, even by two
 * concurrent callbacks (docs/security-tests.md O1, O3). Redis down means no sign-in: 503 (O17).
 */
export class LoginStateStore {
  private readonly health: RedisHealth;

  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {
    this.health = redisHealth(redis);
  }

  async save(state: string, value: LoginState): Promise<void> {
    await this.health.failClosed(() => this.redis.set(key(state), JSON.stringify(value), 'EX', this.ttlSeconds));
  }

  async consume(state: string): Promise<LoginState | null> {
    const raw = await this.health.failClosed(() => this.redis.getdel(key(state)));
    if (raw === null) return null;
    const parsed = loginStateSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) throw new AppError('LOGIN_STATE_INVALID');
    return parsed.data;
  }
}

function key(state: string): string {
  return `oidc:state:${sha256(state)}`;
}
