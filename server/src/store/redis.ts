import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisTopology } from '../config/index.js';

export interface RedisClientOptions {
  timeoutMs: number;
  keyPrefix: string;
}

/**
 * A Redis client that fails fast: commands time out after `timeoutMs`, and while the
 * connection is down commands are rejected at once instead of queueing, so callers can fall
 * back to MongoDB or answer 503 within the timeout (docs/security-model.md "Failure policy"). During a
 * Sentinel or Cluster failover that means 503s for as long as the switch lasts, never a wait.
 *
 * With a Cluster the key prefix becomes a hash tag (`{gh:}…`): every Gatehouse key then lives in
 * one slot, so the pipelines and scripts that read several keys together (the revocation check,
 * the rebuild after a wipe, the rate limiter) work unchanged (docs/redis.md). The Cluster client is
 * returned with the `Redis` type: it speaks the same commands, and the few places that differ
 * (SCAN, duplicate) go through the helpers below.
 */
export function createRedis(where: RedisTopology | string, options: RedisClientOptions): Redis {
  const topology: RedisTopology = typeof where === 'string' ? { kind: 'single', url: where, waitReplicas: 0 } : where;
  const common: RedisOptions = {
    commandTimeout: options.timeoutMs,
    connectTimeout: Math.max(options.timeoutMs, 1000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: false,
    // Keep reconnecting in the background (capped backoff) so recovery is automatic.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  };
  if (topology.kind === 'single') return new Redis(topology.url, { ...common, keyPrefix: options.keyPrefix });
  if (topology.kind === 'sentinel') {
    return new Redis({
      ...common,
      keyPrefix: options.keyPrefix,
      sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
      name: topology.master,
      ...(topology.password ? { password: topology.password } : {}),
      ...(topology.sentinelPassword ? { sentinelPassword: topology.sentinelPassword } : {}),
      db: topology.db,
      sentinelRetryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    });
  }
  const cluster = new Cluster(
    topology.nodes.map(({ host, port }) => ({ host, port })),
    {
      keyPrefix: `{${options.keyPrefix}}`,
      enableOfflineQueue: false,
      clusterRetryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
      // A moved slot after a failover is followed at once instead of waiting for a refresh.
      slotsRefreshTimeout: Math.max(options.timeoutMs, 1000),
      redisOptions: { ...common, ...(topology.password ? { password: topology.password } : {}) },
    },
  );
  return cluster as unknown as Redis;
}

export function isCluster(redis: Redis): boolean {
  return (redis as unknown) instanceof Cluster;
}

/**
 * A second connection for SUBSCRIBE (a subscribed connection can do nothing else), for one
 * server, Sentinel or Cluster alike. `autoResubscribe: false` for a caller that subscribes again
 * itself on every `ready` (and must know when it is not subscribed).
 */
export function duplicateForSubscribe(redis: Redis, options: { autoResubscribe?: boolean } = {}): Redis {
  if (isCluster(redis)) {
    const cluster = redis as unknown as Cluster;
    return cluster.duplicate(undefined, {
      keyPrefix: '',
      enableOfflineQueue: true,
      redisOptions: { ...cluster.options.redisOptions, ...options },
    }) as unknown as Redis;
  }
  return redis.duplicate({ keyPrefix: '', enableOfflineQueue: true, ...options });
}

/**
 * Every key matching `pattern` (without the prefix), across the masters of a Cluster: SCAN is
 * per node. The keys come back without the client's prefix, ready for DEL through the client.
 */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const prefix = isCluster(redis) ? ((redis as unknown as Cluster).options.keyPrefix ?? '') : (redis.options.keyPrefix ?? '');
  const nodes = isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}${pattern}`, 'COUNT', 1000);
      found.push(...keys.map((key) => key.slice(prefix.length)));
      cursor = next;
    } while (cursor !== '0');
  }
  return found;
}

/**
 * Waits until `replicas` replicas hold every write this connection made (Redis WAIT), so that a
 * failover cannot lose an acknowledged revocation. False when fewer answered within the
 * client's command timeout (less a margin, so WAIT answers before the client gives up).
 */
export async function waitForReplicas(redis: Redis, replicas: number): Promise<boolean> {
  if (replicas <= 0) return true;
  const options = isCluster(redis) ? (redis as unknown as Cluster).options.redisOptions : redis.options;
  const timeoutMs = Math.max(10, (options?.commandTimeout ?? 1000) - 100);
  // WAIT names no key. In a pipeline behind a key of ours it goes where that key lives: on a
  // Cluster, to the master of the one slot that holds every Gatehouse key, over the connection
  // that wrote there.
  const replies = await redis.pipeline().exists('epoch').wait(replicas, timeoutMs).exec();
  const [error, acknowledged] = replies?.[1] ?? [new Error('empty pipeline reply'), 0];
  if (error) throw error;
  return Number(acknowledged) >= replicas;
}

/** Waits until the client is ready, or fails after `timeoutMs`. */
export function redisReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('Redis did not become ready in time'));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
