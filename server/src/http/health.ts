import Router from '@koa/router';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type { AppState } from './state.js';

/** Races a check against a timeout, so /readyz answers in bounded time whatever hangs. */
async function within(ms: number, check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz`: the process is alive. `/readyz`: Redis and MongoDB answer, each within its timeout. */
export function healthRoutes(deps: { redis: Redis; db: Db; timeoutMs: number }) {
  const router = new Router<AppState>();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const [redis, mongo] = await Promise.all([
      within(deps.timeoutMs, () => deps.redis.ping()),
      within(deps.timeoutMs, () => deps.db.command({ ping: 1 })),
    ]);
    ctx.status = redis && mongo ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      status: redis && mongo ? 'ready' : 'unavailable',
      checks: { redis: redis ? 'ok' : 'fail', mongodb: mongo ? 'ok' : 'fail' },
    };
  });
  return router;
}
