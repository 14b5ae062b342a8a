// Loaded into the server process by `npm run soak` (node --import): every SOAK_INTERVAL_MS it
// appends one JSON line with the process's own RSS, heap, event-loop delay and open handles to
// SOAK_SAMPLES, so that the soak measures the server, not the load generator.
import { appendFileSync } from 'node:fs';
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
          eventLoopP99Ms: delay.percentile(99) / 1e6,
          eventLoopMaxMs: delay.max / 1e6,
          handles: resources.length,
          sockets: resources.filter((name) => name === 'TCPSocketWrap').length,
        })}\n`,
      );
      delay.reset();
    },
    Number(process.env.SOAK_INTERVAL_MS ?? 10_000),
  );
  timer.unref();
}
