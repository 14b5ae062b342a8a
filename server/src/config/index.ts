/** Configuration: parsed once at boot from the environment, then frozen and passed around. */
export { type Config, ConfigError, loadConfig, type OAuthClientConfig } from './load.js';
export type { RedisTopology } from './redis.js';
export { spliceConfigReference } from './reference.js';
export type { ProviderConfig, TransmitterConfig } from './schema.js';
