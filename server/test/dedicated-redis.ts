import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from '../../scripts/stack/index.mjs';

/** Polls `probe` every 100 ms until it is true; returns the milliseconds it took, fails after `timeoutMs`. The suites' one waitUntil. */
export async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await probe()) return Date.now() - started;
    await sleep(100);
  }
  throw new Error(`${what} not within ${timeoutMs} ms`);
}

/** Resolves true when a bare PING on the port gets +PONG within 500 ms. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG'));
      }
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A throw-away redis-server on its own port, without persistence (a restart loses every key),
 * that a test may stop, freeze (SIGSTOP) and restart. The shared Redis of the suite must never
 * be stopped or flushed: files that need that use one of these.
 */
export class DedicatedRedis {
  private child: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  static async start(): Promise<DedicatedRedis> {
    const redis = new DedicatedRedis(await freePort());
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    // biome-ignore format: flag/value pairs read best on one line
    const args = ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no', '--dir', '/tmp'];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    // Should the worker die before afterAll, don't leave the server behind.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    await waitUntil('redis-server answering PING', () => pings(this.port), 10_000);
  }

  /** SIGTERM (after SIGCONT: a frozen server can't act on it) and wait for the process to be gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5_000).then(() => child.kill('SIGKILL'))]);
    this.child = null;
  }

  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** A direct client, for FLUSHALL and inspection. */
  client(): Redis {
    return new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  }
}
