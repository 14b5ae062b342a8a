import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Middleware } from 'koa';
import { safeEqual } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import type { Metrics } from './metrics.js';

/**
 * Counts and times every request by the route template the router matched (`/api/v1/me/sessions/:id`,
 * never the raw path), and counts 401 answers by their code. Placed outside the error handler,
 * so it sees the status the client gets.
 */
export function requestMetrics(metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      metrics.request(typeof route === 'string' ? route : undefined, ctx.method, ctx.status, (performance.now() - started) / 1000);
      if (ctx.status === 401) {
        const body = ctx.body as { code?: unknown; error?: unknown } | null | undefined;
        metrics.credentialRefused(body?.code ?? body?.error);
      }
    }
  };
}

/** Whether an `Authorization` header carries the metrics bearer secret, compared in constant time. */
function authorised(header: string | undefined, token: string): boolean {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header ?? '');
  return match?.[1] !== undefined && safeEqual(match[1], token);
}

/**
 * `/metrics` on the public port, only when METRICS_TOKEN is set, and only with it as a bearer
 * secret; without the variable the path does not exist there (404 like any unknown path).
 */
export function publicMetrics(metrics: Metrics, token: string | undefined): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/metrics' || !token) return next();
    if (ctx.method !== 'GET') throw new AppError('METHOD_NOT_ALLOWED');
    if (!authorised(ctx.get('authorization'), token)) {
      throw new AppError('UNAUTHENTICATED', { headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' } });
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  };
}

/**
 * A listener of its own for the scraper (METRICS_PORT, on METRICS_HOST: loopback unless the
 * operator opens it), so the public port never serves metrics by default. It answers
 * `/metrics` and nothing else; with METRICS_TOKEN set it wants the bearer secret too.
 */
export async function startMetricsServer(
  metrics: Metrics,
  options: { port: number; host: string; token?: string | undefined },
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (options.token && !authorised(req.headers.authorization, options.token)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' }).end('unauthorized\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  return server;
}
