import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import type { Config, TransmitterConfig } from '../config/index.js';

/**
 * The configured Shared Signals transmitters and their signing keys. Keys are fetched from the
 * configured JWKS URL on first use, cached by jose and refetched on an unknown `kid` (so a key
 * rotation is picked up). Every fetch is bounded by OIDC_HTTP_TIMEOUT_MS, follows no redirect
 * and — in production — refuses plain http (docs/security-tests.md N8), as for identity providers.
 */
export class TransmitterRegistry {
  private readonly keySets = new Map<string, JWTVerifyGetKey>();

  constructor(private readonly config: Config) {}

  /** The transmitter with this id, or null when none is configured. */
  find(id: string): TransmitterConfig | null {
    return this.config.ssfTransmitters.find((candidate) => candidate.id === id) ?? null;
  }

  signingKeys(transmitter: TransmitterConfig): JWTVerifyGetKey {
    const cached = this.keySets.get(transmitter.id);
    if (cached) return cached;
    const allowHttp = this.config.NODE_ENV !== 'production';
    const timeoutMs = this.config.OIDC_HTTP_TIMEOUT_MS;
    const keys = createRemoteJWKSet(new URL(transmitter.jwksUrl), {
      timeoutDuration: timeoutMs,
      [customFetch]: (url, options) => {
        const target = new URL(url);
        if (target.protocol !== 'https:' && !(allowHttp && target.protocol === 'http:')) {
          return Promise.reject(new TypeError(`refusing to fetch ${target.protocol} URL from a transmitter`));
        }
        const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]);
        return fetch(url, { ...options, redirect: 'manual', signal });
      },
    });
    this.keySets.set(transmitter.id, keys);
    return keys;
  }
}
