import type { Config } from '../config/index.js';

/**
 * The longest any token signed today can live: a retired key must stay trusted that long, so
 * `keys prune` only drops keys retired before it.
 */
export function longestTokenLifetimeMs(config: Config): number {
  return Math.max(
    config.SESSION_ABSOLUTE_HOURS * 3_600_000,
    config.API_TOKEN_MAX_DAYS * 86_400_000,
    config.ACCESS_TOKEN_TTL_SECONDS * 1000,
    config.INVITATION_TTL_HOURS * 3_600_000,
  );
}
