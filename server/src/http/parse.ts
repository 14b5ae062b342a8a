import type { z } from 'zod';
import { AppError, type ValidationIssue } from '../errors/index.js';
import { mediaType, readText, uncompressedBody } from './body.js';
import type { AppContext, Step } from './state.js';

/**
 * Reads search parameters, refusing any that appears twice (docs/security-tests.md N12): which of two
 * values a library picks differs, and attackers rely on that difference. A `__proto__` parameter
 * becomes an own property (Object.fromEntries defines, never assigns), so it can't reach a
 * prototype. Collected in a Map rather than a null-prototype object: V8 keeps the latter in
 * dictionary mode, and filling and copying it was 3 µs of every bearer check (docs/benchmarks.md,
 * "What each change bought").
 */
export function readParams(search: string): Record<string, string> {
  const params = new Map<string, string>();
  for (const [key, value] of plainPairs(search) ?? new URLSearchParams(search)) {
    if (params.has(key)) throw new AppError('PARAMETER_DUPLICATED');
    params.set(key, value);
  }
  return Object.fromEntries(params);
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * The pairs of a string with nothing to decode — no `%`, no `+`, no leading `?`, no surrogate
 * (URLSearchParams would replace a lone one) — split exactly as URLSearchParams splits it (on
 * `&`, empty pieces skipped, the name up to the first `=`), without its decoding pass over every
 * character: a bearer check's `token=<JWT>` is such a string. Undefined for any other, which
 * URLSearchParams then reads. parse.test.ts holds both to the same answers.
 */
function plainPairs(search: string): [string, string][] | undefined {
  if (search.charCodeAt(0) === 0x3f || search.includes('%') || search.includes('+') || SURROGATE.test(search)) return undefined;
  const pairs: [string, string][] = [];
  for (const piece of search.split('&')) {
    if (piece === '') continue;
    const equals = piece.indexOf('=');
    pairs.push(equals === -1 ? [piece, ''] : [piece.slice(0, equals), piece.slice(equals + 1)]);
  }
  return pairs;
}

/** Validates the query string against a shared schema; the result lands on ctx.state.query. */
export function parseQuery(schema: z.ZodType): Step {
  return async (ctx, next) => {
    ctx.state.query = validate(schema, readParams(ctx.querystring));
    await next();
  };
}

const MEDIA_TYPES = { json: 'application/json', form: 'application/x-www-form-urlencoded' } as const;
type BodyKind = keyof typeof MEDIA_TYPES;

/**
 * Reads and validates a request body: only the listed content types, at most `limit` bytes
 * (413 beyond), JSON parsed strictly, forms parsed flat (no nested `a[b]` objects, no
 * duplicates). Handlers only ever see the schema's output on ctx.state.body.
 */
export function parseBody(schema: z.ZodType, options: { kinds: BodyKind[]; limit: number; before?: (raw: unknown) => void }): Step {
  return async (ctx, next) => {
    const raw = await readBody(ctx, options.kinds, options.limit);
    options.before?.(raw);
    ctx.state.body = validate(schema, raw);
    await next();
  };
}

/** Checks the type, then reads and decodes the body; throws (from its caller's await) on a refused type. */
function readBody(ctx: AppContext, kinds: BodyKind[], limit: number): Promise<unknown> {
  const type = mediaType(ctx.req);
  const kind = kinds.find((k) => type === MEDIA_TYPES[k]);
  if (!kind) throw new AppError('UNSUPPORTED_MEDIA_TYPE');
  if (!uncompressedBody(ctx.req)) throw new AppError('UNSUPPORTED_MEDIA_TYPE');
  return readText(ctx.req, limit).then(kind === 'form' ? readParams : readJson);
}

function readJson(text: string): unknown {
  if (text.trim() === '') throw new AppError('MALFORMED_JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new AppError('MALFORMED_JSON', { cause: error });
  }
}

export function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.map(String).join('.').slice(0, 100),
    message: issue.message.slice(0, 200),
  }));
  throw new AppError('VALIDATION_FAILED', { issues });
}
