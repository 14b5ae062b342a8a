// Loaded into the server process by `npm run soak` (node --import): every SOAK_INTERVAL_MS it
// appends one JSON line with the process's own RSS, heap, event-loop delay and open handles to
// SOAK_SAMPLES, so that the soak measures the server, not the load generator. Its connections to
// MongoDB and Redis (SOAK_MONGO_PORT, SOAK_REDIS_PORT) are counted from /proc: the server's own
// open sockets whose remote end is that port.
import { appendFileSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.SOAK_SAMPLES;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const timer = setInterval(
    () => {
      globalThis.gc?.();
      const memory = process.memoryUsage();
      const resources = process.getActiveResourcesInfo();
      appendFileSync(
        file,
        `${JSON.stringify({
          at: Date.now(),
          rss: memory.rss,
          heapUsed: memory.heapUsed,
          heapTotal: memory.heapTotal,
          eventLoopP99Ms: delay.percentile(99) / 1e6,
          eventLoopMaxMs: delay.max / 1e6,
          handles: resources.length,
          sockets: resources.filter((name) => name === 'TCPSocketWrap').length,
          ...connectionsByPort(),
        })}\n`,
      );
      delay.reset();
    },
    Number(process.env.SOAK_INTERVAL_MS ?? 10_000),
  );
  timer.unref();
}

/** Established TCP connections of this process to the MongoDB and Redis ports, from /proc. */
function connectionsByPort() {
  const ports = { mongoConnections: Number(process.env.SOAK_MONGO_PORT), redisConnections: Number(process.env.SOAK_REDIS_PORT) };
  try {
    const inodes = new Set();
    for (const fd of readdirSync('/proc/self/fd')) {
      const link = (() => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return '';
        }
      })();
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode) inodes.add(inode);
    }
    const counts = Object.fromEntries(Object.keys(ports).map((name) => [name, 0]));
    for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        // fields: sl, local, remote, state (01 = established), …, inode (index 9)
        if (fields.length < 10 || fields[3] !== '01' || !inodes.has(fields[9])) continue;
        const remotePort = Number.parseInt(fields[2].split(':')[1], 16);
        for (const [name, port] of Object.entries(ports)) if (port === remotePort) counts[name]++;
      }
    }
    return counts;
  } catch {
    return {};
  }
}
