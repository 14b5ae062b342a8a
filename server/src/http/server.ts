import { createServer, type RequestListener, type Server } from 'node:http';

/**
 * How long a client may take to send its request (docs/security-tests.md N3): a slow or never-finished
 * upload is cut off with 408 (or a closed socket) instead of holding a connection and its
 * buffers forever. Node checks these deadlines only every `connectionsCheckingInterval`
 * (30 s by default, which would stretch a 15 s limit to up to 45 s), so it checks every second.
 */
export const SERVER_TIMEOUTS = {
  requestTimeoutMs: 15_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
} as const;

/** The HTTP server main.ts runs, with the timeouts above; tests start the same one. */
export function createHttpServer(handler: RequestListener): Server {
  return createServer(
    {
      requestTimeout: SERVER_TIMEOUTS.requestTimeoutMs,
      headersTimeout: SERVER_TIMEOUTS.headersTimeoutMs,
      keepAliveTimeout: SERVER_TIMEOUTS.keepAliveTimeoutMs,
      connectionsCheckingInterval: SERVER_TIMEOUTS.checkIntervalMs,
    },
    handler,
  );
}
