import type { z } from 'zod';
import { AppError } from '../errors/index.js';
import { parseBody } from './parse.js';
import type { AppContext } from './state.js';

/** Parses a form body with `schema` inside a handler, so that a refusal can go back to the page. */
export async function readForm<S extends z.ZodType>(ctx: AppContext, schema: S, limit: number): Promise<z.output<S>> {
  let parsed: unknown;
  await parseBody(schema, { kinds: ['form'], limit })(ctx, async () => {
    parsed = ctx.state.body;
  });
  return parsed as z.output<S>;
}

/**
 * A page's form was refused (4xx): back to `path` with the stable code as `?error=`, which the
 * page shows as a plain-words banner. Anything else (5xx, 413, 415, 429) is a real failure
 * for the error handler.
 */
export function backTo(ctx: AppContext, path: string, error: unknown): void {
  if (!(error instanceof AppError) || error.status >= 500 || error.status === 429 || error.status === 413 || error.status === 415)
    throw error;
  ctx.status = 303;
  const separator = path.includes('?') ? '&' : '?';
  ctx.redirect(`${path}${separator}error=${error.code}`);
}
