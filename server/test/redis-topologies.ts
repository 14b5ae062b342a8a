// Real Redis Cluster and Sentinel deployments for tests, from Debian's redis-server on
// loopback (the same binary runs as a Sentinel with --sentinel). Every server lives in its own
// folder under one temporary directory and is killed when the test ends.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../scripts/stack/index.mjs';
import { waitUntil } from './dedicated-redis.js';

interface Node {
  port: number;
  child: ChildProcess;
}

/** One redis-server (or Sentinel) process; the caller owns it. */
function startServer(dir: string, args: string[]): ChildProcess {
  mkdirSync(dir, { recursive: true });
  const child = spawn('redis-server', args, { cwd: dir, stdio: 'ignore' });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  return child;
}

async function answers(port: number): Promise<boolean> {
  const client = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 500,
    retryStrategy: () => null,
  });
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Runs one command against one server and returns its reply. */
export async function ask(port: number, ...command: string[]): Promise<unknown> {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    return await client.call(command[0] ?? 'PING', ...command.slice(1));
  } finally {
    client.disconnect();
  }
}

const BASE_ARGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];

abstract class Topology {
  protected readonly root = mkdtempSync(join(tmpdir(), 'gatehouse-redis-'));
  protected readonly nodes: Node[] = [];

  protected async startNode(name: string, extra: string[]): Promise<Node> {
    const port = await freePort();
    const child = startServer(join(this.root, name), [...BASE_ARGS, '--port', String(port), '--dir', '.', ...extra]);
    const node = { port, child };
    this.nodes.push(node);
    await waitUntil(`${name} on ${port} answering`, () => answers(port), 15_000);
    return node;
  }

  /** SIGKILL: the server is gone at once, as in a crash. */
  kill(port: number): void {
    this.nodes.find((node) => node.port === port)?.child.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    for (const { child } of this.nodes) child.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Three masters and three replicas, node timeout 1 s so a failover takes a few seconds. */
export class TestCluster extends Topology {
  ports: number[] = [];

  static async start(): Promise<TestCluster> {
    const cluster = new TestCluster();
    try {
      const nodes = await Promise.all(
        [0, 1, 2, 3, 4, 5].map((i) =>
          cluster.startNode(`node-${i}`, [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '1000',
          ]),
        ),
      );
      cluster.ports = nodes.map((node) => node.port);
      const addresses = cluster.ports.map((port) => `127.0.0.1:${port}`);
      execFileSync('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], { stdio: 'pipe' });
      await cluster.waitHealthy();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  get seeds(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(',');
  }

  /**
   * Until every live node says the cluster is ok and all slots are served, and (when asked)
   * every master has a replica in sync, so that WAIT can be answered.
   */
  async waitHealthy({ replicas = true, timeoutMs = 30_000 } = {}): Promise<void> {
    const live = () => this.live();
    await waitUntil(
      'the cluster state ok on every live node',
      async () => {
        for (const { port } of live()) {
          const info = String(await ask(port, 'CLUSTER', 'INFO').catch(() => ''));
          if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return false;
          const replication = String(await ask(port, 'INFO', 'replication').catch(() => ''));
          if (replicas && replication.includes('role:master') && !/slave0:.*state=online/.test(replication)) return false;
        }
        return true;
      },
      timeoutMs,
    );
  }

  private live(): Node[] {
    return this.nodes.filter(({ child }) => child.exitCode === null && child.signalCode === null);
  }

  /** The port of the master that serves `key`'s slot now, as the live nodes see it. */
  async masterOf(key: string): Promise<number> {
    const live = this.live();
    const slot = Number(await ask(live[0]?.port ?? 0, 'CLUSTER', 'KEYSLOT', key));
    for (const { port } of live) {
      const slots = (await ask(port, 'CLUSTER', 'SLOTS').catch(() => null)) as [number, number, [string, number]][] | null;
      const range = slots?.find(([from, to]) => slot >= from && slot <= to);
      if (range) return range[2][1];
    }
    throw new Error(`no master serves slot ${slot}`);
  }
}

/** One master, one replica and three Sentinels watching them as `gatehouse`. */
export class TestSentinels extends Topology {
  static readonly MASTER = 'gatehouse';
  masterPort = 0;
  replicaPort = 0;
  sentinelPorts: number[] = [];

  static async start(): Promise<TestSentinels> {
    const set = new TestSentinels();
    try {
      set.masterPort = (await set.startNode('master', [])).port;
      set.replicaPort = (await set.startNode('replica', ['--replicaof', '127.0.0.1', String(set.masterPort)])).port;
      for (const i of [0, 1, 2]) {
        const port = await freePort();
        const dir = join(set.root, `sentinel-${i}`);
        mkdirSync(dir, { recursive: true });
        // Sentinels rewrite their configuration file: it must be their own and writable.
        const conf = join(dir, 'sentinel.conf');
        writeFileSync(
          conf,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `sentinel monitor ${TestSentinels.MASTER} 127.0.0.1 ${set.masterPort} 2`,
            `sentinel down-after-milliseconds ${TestSentinels.MASTER} 1000`,
            `sentinel failover-timeout ${TestSentinels.MASTER} 5000`,
            `sentinel parallel-syncs ${TestSentinels.MASTER} 1`,
            '',
          ].join('\n'),
        );
        const child = spawn('redis-server', [conf, '--sentinel'], { cwd: dir, stdio: 'ignore' });
        process.once('exit', () => child.kill('SIGKILL'));
        set.nodes.push({ port, child });
        set.sentinelPorts.push(port);
        await waitUntil(`sentinel on ${port} answering`, () => answers(port), 15_000);
      }
      await waitUntil(
        'the replica in sync and known to the Sentinels',
        async () => {
          const info = String(await ask(set.replicaPort, 'INFO', 'replication'));
          const replicas = (await ask(set.sentinelPorts[0] ?? 0, 'SENTINEL', 'REPLICAS', TestSentinels.MASTER)) as unknown[];
          return info.includes('master_link_status:up') && replicas.length === 1;
        },
        20_000,
      );
      return set;
    } catch (error) {
      await set.stop();
      throw error;
    }
  }

  get sentinels(): string {
    return this.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',');
  }

  /** The master the Sentinels name now. */
  async currentMaster(): Promise<number> {
    const [, port] = (await ask(this.sentinelPorts[0] ?? 0, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', TestSentinels.MASTER)) as [
      string,
      string,
    ];
    return Number(port);
  }
}
