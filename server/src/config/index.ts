/** Configuration: parsed once at boot from the environment, then frozen and passed around. */
export { type Config, ConfigError, isLoopback, loadConfig, type OAuthClientConfig } from './load.js';
export type { RedisTopology } from './redis.js';
export { renderConfigReference, spliceConfigReference } from './reference.js';
export { envSchema, type ProviderConfig, providerVariables, type TransmitterConfig } from './schema.js';
