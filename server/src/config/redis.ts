import { ConfigError } from './errors.js';

/** Where Redis is: one server, a master followed through Sentinels, or a Cluster (docs/redis.md). */
export type RedisTopology =
  | { readonly kind: 'single'; readonly url: string; readonly waitReplicas: number }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly { host: string; port: number }[];
      readonly master: string;
      readonly password: string | undefined;
      readonly sentinelPassword: string | undefined;
      readonly db: number;
      readonly waitReplicas: number;
    }
  | {
      readonly kind: 'cluster';
      readonly nodes: readonly { host: string; port: number }[];
      readonly password: string | undefined;
      readonly waitReplicas: number;
    };

interface RedisEnv {
  REDIS_URL: string;
  REDIS_SENTINELS: string;
  REDIS_SENTINEL_MASTER: string;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_CLUSTER_NODES: string;
  REDIS_WAIT_REPLICAS?: number | undefined;
}

/** `host:port,host:port` → addresses; names the variable on anything else. */
function addresses(variable: string, value: string): { host: string; port: number }[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
      const port = Number(match?.[2]);
      if (!match?.[1] || port < 1 || port > 65_535) throw new ConfigError(variable, `"${entry}" is not host:port`);
      return { host: match[1].replace(/^\[|\]$/g, ''), port };
    });
}

/** The topology the REDIS_* variables describe; conflicting or half-given settings refuse to start. */
export function loadRedisTopology(env: RedisEnv): RedisTopology {
  let url: URL;
  try {
    url = new URL(env.REDIS_URL);
  } catch {
    throw new ConfigError('REDIS_URL', 'is not a URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL');
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  const sentinels = addresses('REDIS_SENTINELS', env.REDIS_SENTINELS);
  const nodes = addresses('REDIS_CLUSTER_NODES', env.REDIS_CLUSTER_NODES);
  if (sentinels.length > 0 && nodes.length > 0) {
    throw new ConfigError('REDIS_CLUSTER_NODES', 'cannot be used together with REDIS_SENTINELS: choose Sentinel or Cluster');
  }
  if (sentinels.length > 0 && !env.REDIS_SENTINEL_MASTER)
    throw new ConfigError('REDIS_SENTINEL_MASTER', 'is required with REDIS_SENTINELS');
  if (sentinels.length === 0 && env.REDIS_SENTINEL_MASTER)
    throw new ConfigError('REDIS_SENTINELS', 'is required with REDIS_SENTINEL_MASTER');
  if (sentinels.length > 0) {
    return {
      kind: 'sentinel',
      sentinels,
      master: env.REDIS_SENTINEL_MASTER,
      password,
      sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
      db: Number(url.pathname.slice(1) || 0),
      waitReplicas: env.REDIS_WAIT_REPLICAS ?? 1,
    };
  }
  if (nodes.length > 0) return { kind: 'cluster', nodes, password, waitReplicas: env.REDIS_WAIT_REPLICAS ?? 1 };
  return { kind: 'single', url: env.REDIS_URL, waitReplicas: env.REDIS_WAIT_REPLICAS ?? 0 };
}
