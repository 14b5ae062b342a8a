import type { RequestMeta } from '../context.js';
import { requestId } from '../crypto/index.js';
import type { Logger } from '../log/index.js';
import { clientAddress } from './client-ip.js';
import type { AppContext, Step } from './state.js';

/**
 * First step of every request: a request id of our own (an incoming X-Request-Id is not
 * trusted, it could be forged to confuse the audit trail), the client address, a child logger,
 * and one access-log line when the response is done. The line carries no query string, no
 * headers and no body, so no secret can reach it.
 */
export function requestContext(log: Logger, trustProxyHops: number): Step {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const id = requestId();
    ctx.state.requestId = id;
    ctx.state.clientIp = clientAddress(ctx.req.socket.remoteAddress, ctx.get('x-forwarded-for'), trustProxyHops);
    // The child logger is made when a line is written: pino redacts its bindings on creation,
    // ~8 µs of CPU that most requests, which log nothing below warn, never need (docs/benchmarks.md).
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      get: () => {
        child ??= log.child({ requestId: id });
        return child;
      },
      enumerable: true,
      configurable: true,
    });
    ctx.set('X-Request-Id', id);
    try {
      await next();
    } finally {
      if (log.isLevelEnabled('info')) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        ctx.state.log.info(
          { method: ctx.method, path: ctx.path.slice(0, 200), status: ctx.status, ms: Math.round(ms * 10) / 10 },
          'http.request',
        );
      }
    }
  };
}

/** The request facts the audit log and session records need. */
export function requestMeta(ctx: AppContext): RequestMeta {
  return { requestId: ctx.state.requestId, ip: ctx.state.clientIp, userAgent: ctx.get('user-agent') };
}
