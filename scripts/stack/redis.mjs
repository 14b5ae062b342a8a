// Redis for the local stack: a redis-server child on 127.0.0.1.
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { spawnLogged, stopChild, waitFor } from './proc.mjs';

/** Sends an inline PING and resolves true on `+PONG` (no client library needed). */
export function pingRedis(port, timeoutMs = 1_000) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('PING timed out')));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d;
      if (reply.includes('\r\n')) {
        socket.destroy();
        // "-LOADING" while an AOF is replayed: not ready yet.
        resolve(reply.startsWith('+PONG'));
      }
    });
    socket.once('error', reject);
  });
}

/**
 * Starts redis-server on 127.0.0.1:port with its files in `<dataDir>/redis`.
 * persistent → append-only file (survives restarts); otherwise no persistence at all.
 */
export async function startRedis({ redisServer, dataDir, logsDir, port, persistent, watchdog }) {
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  // biome-ignore format: flag/value pairs read best on one line
  const args = [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--dir', dir,
    '--daemonize', 'no',
    '--logfile', '', // stdout, which goes to our log file
    '--save', '', // no RDB snapshots: the AOF is the persistence when wanted
    '--appendonly', persistent ? 'yes' : 'no',
  ];
  const child = spawnLogged('redis', redisServer, args, { logsDir });
  watchdog.track(child, 'SIGTERM');
  try {
    await waitFor('redis did not answer PING', () => pingRedis(port), { child, timeoutMs: 20_000 });
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    // SIGTERM: redis flushes the AOF and exits.
    stop: () => stopChild(child, 'SIGTERM'),
  };
}
