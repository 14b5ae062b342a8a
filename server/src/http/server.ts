import { createServer, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

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
  const server = createServer(
    {
      requestTimeout: SERVER_TIMEOUTS.requestTimeoutMs,
      headersTimeout: SERVER_TIMEOUTS.headersTimeoutMs,
      keepAliveTimeout: SERVER_TIMEOUTS.keepAliveTimeoutMs,
      connectionsCheckingInterval: SERVER_TIMEOUTS.checkIntervalMs,
    },
    handler,
  );
  server.on('clientError', answerClientError);
  return server;
}

const CLIENT_ERRORS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * A request Node refuses before our code sees it (headers over 16 KB, a request that took too
 * long, bytes that are not HTTP). Node's own handler answers and destroys the socket at once;
 * with the rest of a large request still unread, the kernel then resets the connection and the
 * client sees ECONNRESET instead of the answer. Here the answer is sent, the rest is read and
 * dropped, and the socket closes gracefully, or is destroyed after a second at the latest.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = CLIENT_ERRORS[error.code ?? ''] ?? '400 Bad Request';
  socket.on('data', () => undefined);
  socket.on('error', () => undefined);
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  setTimeout(() => socket.destroy(), 1000).unref();
}
