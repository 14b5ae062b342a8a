import { AppError } from '../errors/index.js';
import type { Step } from './state.js';

/**
 * Load shedding: past `maxInFlight` requests in progress, new ones get 503 + Retry-After at
 * once instead of queueing behind the others, so that under overload the answered requests keep
 * their latency, memory stays bounded and the process recovers as soon as the load stops
 * (docs/benchmarks.md, "Overload"). Health checks are exempt so orchestrators still see a live
 * process. Placed after the error handler so the refusal is a regular problem response.
 */
export function loadShed(maxInFlight: number, exempt: readonly string[] = ['/healthz', '/readyz']): Step {
  let inFlight = 0;
  return async (ctx, next) => {
    if (maxInFlight <= 0 || exempt.includes(ctx.path)) return next();
    if (inFlight >= maxInFlight) throw new AppError('OVERLOADED', { headers: { 'Retry-After': '1' } });
    inFlight++;
    try {
      return await next();
    } finally {
      inFlight--;
    }
  };
}
