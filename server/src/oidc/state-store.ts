import type { Redis } from 'ioredis';
import { z } from 'zod';
import { sha256 } from '../crypto/index.js';
import { AppError, storeError } from '../errors/index.js';

/** What a started sign-in remembers until the provider sends the browser back. */
const loginStateSchema = z.strictObject({
  providerId: z.string(),
  issuer: z.string(),
  codeVerifier: z.string(),
  nonce: z.string(),
  returnTo: z.string().nullable(),
  browserBinding: z.string(),
  createdAt: z.number().int(),
});
export type LoginState = z.infer<typeof loginStateSchema>;

/**
 * Sign-in state in Redis under the hash of the `state` value, with a TTL. It is consumed with
 * GETDEL, so a state (and with it the PKCE verifier and nonce) can be used once, even by two
 * concurrent callbacks (SECURITY.md O1, O3). Redis down means no sign-in: 503 (O17).
 */
export class LoginStateStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  async save(state: string, value: LoginState): Promise<void> {
    try {
      await this.redis.set(key(state), JSON.stringify(value), 'EX', this.ttlSeconds);
    } catch (error) {
      throw storeError(error);
    }
  }

  async consume(state: string): Promise<LoginState | null> {
    let raw: string | null;
    try {
      raw = await this.redis.getdel(key(state));
    } catch (error) {
      throw storeError(error);
    }
    if (raw === null) return null;
    const parsed = loginStateSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) throw new AppError('LOGIN_STATE_INVALID');
    return parsed.data;
  }
}

function key(state: string): string {
  return `oidc:state:${sha256(state)}`;
}
