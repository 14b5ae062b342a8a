import type { AppContext, Step } from './state.js';

/**
 * Marks a route as an OAuth endpoint: errors use RFC 6749 bodies instead of problem details. It
 * hands on `next()`'s promise rather than awaiting it: a step with nothing to do after the rest
 * needs no async frame of its own (docs/benchmarks.md, "What each change bought").
 */
export const oauthErrors: Step = (ctx, next) => {
  ctx.state.oauthErrors = true;
  return next();
};

/** Every value of a request header as sent: Node joins or drops repeats, so read the raw list. */
export function rawHeaderValues(ctx: AppContext, name: string): string[] {
  const values: string[] = [];
  const raw = ctx.req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === name) values.push(raw[i + 1] ?? '');
  return values;
}
