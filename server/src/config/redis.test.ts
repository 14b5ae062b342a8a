// REDIS_* describe one topology; half-given or conflicting settings refuse to start, naming the variable.
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { loadRedisTopology } from './redis.js';

const base = { REDIS_URL: 'redis://:s3cret@127.0.0.1:6379/2', REDIS_SENTINELS: '', REDIS_SENTINEL_MASTER: '', REDIS_CLUSTER_NODES: '' };
const refusal = (env: Partial<typeof base> & { REDIS_WAIT_REPLICAS?: number }) => {
  try {
    loadRedisTopology({ ...base, ...env });
    return null;
  } catch (error) {
    return error instanceof ConfigError ? error.variable : String(error);
  }
};

describe('the Redis topology', () => {
  it('one server by default, waiting for no replica', () => {
    expect(loadRedisTopology(base)).toEqual({ kind: 'single', url: base.REDIS_URL, waitReplicas: 0 });
  });

  it('Sentinel: the master name, the Sentinels, the password and database from REDIS_URL, one replica to wait for', () => {
    expect(loadRedisTopology({ ...base, REDIS_SENTINELS: 'a:26379, [::1]:26380', REDIS_SENTINEL_MASTER: 'gh' })).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 'a', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      master: 'gh',
      password: 's3cret',
      sentinelPassword: undefined,
      db: 2,
      waitReplicas: 1,
    });
  });

  it('Cluster: the seed nodes and the password; REDIS_WAIT_REPLICAS overrides the default', () => {
    expect(loadRedisTopology({ ...base, REDIS_CLUSTER_NODES: 'n1:7000,n2:7001', REDIS_WAIT_REPLICAS: 2 })).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      password: 's3cret',
      waitReplicas: 2,
    });
  });

  it('refuses conflicting, half-given or malformed settings, naming the variable', () => {
    expect(refusal({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_MASTER: 'm', REDIS_CLUSTER_NODES: 'b:2' })).toBe('REDIS_CLUSTER_NODES');
    expect(refusal({ REDIS_SENTINELS: 'a:1' })).toBe('REDIS_SENTINEL_MASTER');
    expect(refusal({ REDIS_SENTINEL_MASTER: 'm' })).toBe('REDIS_SENTINELS');
    expect(refusal({ REDIS_CLUSTER_NODES: 'no-port' })).toBe('REDIS_CLUSTER_NODES');
    expect(refusal({ REDIS_CLUSTER_NODES: 'h:70000' })).toBe('REDIS_CLUSTER_NODES');
    expect(refusal({ REDIS_URL: 'http://127.0.0.1' })).toBe('REDIS_URL');
    expect(refusal({ REDIS_URL: 'not a url' })).toBe('REDIS_URL');
  });
});
