import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import * as client from 'openid-client';
import type { Config, ProviderConfig } from '../config/index.js';
import { AppError } from '../errors/index.js';
import type { Logger } from '../log/index.js';

/** After a failed discovery, wait this long before asking the provider again. */
const RETRY_AFTER_MS = 5_000;

/**
 * The configured upstream providers and their discovered metadata. Discovery happens on first
 * use (a provider that is down at boot must not keep Gatehouse from starting) and is cached.
 * openid-client refuses a discovery document whose `issuer` differs from the configured one
 * (docs/security-tests.md O10). Every request to a provider is bounded by OIDC_HTTP_TIMEOUT_MS, refuses
 * redirects, and — in production — plain http (docs/security-tests.md N8).
 */
export class ProviderRegistry {
  private readonly discovered = new Map<string, Promise<client.Configuration>>();
  private readonly failedAt = new Map<string, number>();
  private readonly keySets = new Map<string, { uri: string; keys: JWTVerifyGetKey }>();

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  list(): readonly ProviderConfig[] {
    return this.config.providers;
  }

  get(id: string): ProviderConfig {
    const provider = this.config.providers.find((candidate) => candidate.id === id);
    if (!provider) throw new AppError('PROVIDER_UNKNOWN');
    return provider;
  }

  async configuration(provider: ProviderConfig): Promise<client.Configuration> {
    const failedAt = this.failedAt.get(provider.id);
    if (failedAt && Date.now() - failedAt < RETRY_AFTER_MS) throw new AppError('PROVIDER_UNAVAILABLE');
    let pending = this.discovered.get(provider.id);
    if (!pending) {
      pending = this.discover(provider);
      this.discovered.set(provider.id, pending);
    }
    try {
      return await pending;
    } catch (error) {
      this.discovered.delete(provider.id);
      this.failedAt.set(provider.id, Date.now());
      this.log.warn({ provider: provider.id, err: error }, 'oidc.discovery_failed');
      throw new AppError('PROVIDER_UNAVAILABLE', { cause: error });
    }
  }

  /**
   * The provider's signing keys from the `jwks_uri` of its discovery document, for tokens that
   * don't pass through openid-client (back-channel logout tokens). Fetched under the same
   * rules as every other provider request, cached by jose and refetched on an unknown `kid`.
   */
  async signingKeys(provider: ProviderConfig): Promise<JWTVerifyGetKey> {
    const configuration = await this.configuration(provider);
    const uri = configuration.serverMetadata().jwks_uri;
    if (!uri) throw new AppError('PROVIDER_UNAVAILABLE', { detail: 'The provider publishes no jwks_uri.' });
    const cached = this.keySets.get(provider.id);
    if (cached?.uri === uri) return cached.keys;
    const insecure = this.config.NODE_ENV !== 'production' && new URL(uri).protocol === 'http:';
    const fetchGuarded = guardedFetch(insecure, this.config.OIDC_HTTP_TIMEOUT_MS);
    const keys = createRemoteJWKSet(new URL(uri), {
      timeoutDuration: this.config.OIDC_HTTP_TIMEOUT_MS,
      [customFetch]: (url, options) => fetchGuarded(url, options as unknown as client.CustomFetchOptions),
    });
    this.keySets.set(provider.id, { uri, keys });
    return keys;
  }

  private discover(provider: ProviderConfig): Promise<client.Configuration> {
    const insecure = this.config.NODE_ENV !== 'production' && new URL(provider.issuer).protocol === 'http:';
    return client.discovery(
      new URL(provider.issuer),
      provider.clientId,
      { id_token_signed_response_alg: 'RS256' },
      client.ClientSecretBasic(provider.clientSecret),
      {
        timeout: Math.ceil(this.config.OIDC_HTTP_TIMEOUT_MS / 1000),
        // Verify ID token signatures against the provider's JWKS too: openid-client skips that
        // for token-endpoint responses by default (TLS stands in), but a token signed by an
        // unknown key, or by a key the provider rotated out, must be refused (docs/security-tests.md O8, O9).
        execute: [...(insecure ? [client.allowInsecureRequests] : []), client.enableNonRepudiationChecks],
        [client.customFetch]: guardedFetch(insecure, this.config.OIDC_HTTP_TIMEOUT_MS),
      },
    );
  }
}

/**
 * fetch for provider calls: no redirects followed, https only unless explicitly insecure, and
 * OIDC_HTTP_TIMEOUT_MS to the millisecond (openid-client's own `timeout` is whole seconds).
 */
function guardedFetch(allowHttp: boolean, timeoutMs: number): client.CustomFetch {
  return (url, options) => {
    const target = new URL(url);
    if (target.protocol !== 'https:' && !(allowHttp && target.protocol === 'http:')) {
      return Promise.reject(new TypeError(`refusing to fetch ${target.protocol} URL from an identity provider`));
    }
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]);
    return fetch(url, { ...(options as RequestInit), redirect: 'manual', signal });
  };
}
