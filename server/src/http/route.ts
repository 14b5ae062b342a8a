import type { Scope } from '@gatehouse/shared';
import type Router from '@koa/router';
import compose from 'koa-compose';
import type { z } from 'zod';
import { AppError } from '../errors/index.js';
import { parseBody, parseQuery, validate } from './parse.js';
import type { AppContext, AppState, Step } from './state.js';

/**
 * Who may call a route, as the API document states it. `scope`: a credential carrying that scope
 * (API token, paired client, or the browser session unless `browserOnly`); the handler then
 * receives the `principal`, and with `user` the loaded user record. The feature lists the steps
 * that check it (e.g. `requireCredential`); the route refuses to run its handler without the
 * principal they leave, so a forgotten step fails closed.
 */
export type RouteAuth =
  | { scope: Scope; browserOnly?: boolean; user?: boolean }
  | { kind: 'bootstrap' | 'client' | 'resource-server' | 'signed' };

export interface RouteSpec {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Koa syntax (`/api/v1/me/sessions/:id`), relative to the router's prefix. */
  path: string;
  summary: string;
  auth?: RouteAuth;
  /** A `z.object` of the path parameters. */
  params?: z.ZodType;
  query?: z.ZodType;
  /**
   * The request body: parsed after the steps, before the handler. `onRefused` sees an unreadable
   * or invalid body before the error answers (e.g. to audit it).
   */
  body?: {
    schema: z.ZodType;
    kind: 'json' | 'form';
    limit: number;
    before?: (raw: unknown) => void;
    onRefused?: (ctx: AppContext, error: AppError) => Promise<void>;
  };
  /** The success answer's schema; checked on every answer when ctx.state.checkResponses (tests). */
  response?: z.ZodType;
  /** The success status (default 200); 204 answers have no body. */
  status?: number;
  /** Pages and assets a browser opens: mounted the same way, left out of the API document. */
  hidden?: boolean;
}

type Parsed<T> = T extends z.ZodType ? z.output<T> : undefined;
type Principal = NonNullable<AppState['principal']>;
type User = NonNullable<AppState['user']>;

/** What a handler receives: parsed, typed values only. */
export interface RouteInput<S extends RouteSpec> {
  params: Parsed<S['params']>;
  query: Parsed<S['query']>;
  body: S['body'] extends { schema: infer B } ? Parsed<B> : undefined;
  principal: S['auth'] extends { scope: Scope } ? Principal : undefined;
  user: S['auth'] extends { user: true } ? User : undefined;
}

type Answer<S extends RouteSpec> = S['response'] extends z.ZodType ? z.input<S['response']> : unknown;
export type RouteHandler<S extends RouteSpec> = (input: RouteInput<S>, ctx: AppContext) => Promise<Answer<S>> | Answer<S>;

/** A mounted route as the API document needs it: the full path and the declaration. */
export interface RegisteredRoute {
  path: string;
  spec: RouteSpec;
}

const registry = new Map<string, RegisteredRoute>();

/** Every route mounted through `route()` in this process, in mounting order. */
export function registeredRoutes(): RegisteredRoute[] {
  return [...registry.values()];
}

/**
 * Mounts a route on `router`: the listed steps in order (authentication, rate limits, anything
 * the flow needs), then the query, body and path parameters parsed with the declared schemas, then
 * the handler with typed values; what it returns is the answer. The declaration is registered for
 * `/api/openapi.json`, so the document is generated from the routes themselves.
 *
 * Adopting it: `router.get(path, ...steps, parseQuery(s), async (ctx) => { const q = ctx.state.query as … })`
 * becomes `route(router, { method: 'get', path, summary, query: s, response }, ...steps, async ({ query }) => answer)`.
 */
export function route<const S extends RouteSpec>(router: Router<AppState>, spec: S, ...chain: [...Step[], RouteHandler<S>]): void {
  const handler = chain[chain.length - 1] as RouteHandler<S>;
  const listed = chain.slice(0, -1) as Step[];
  const prefix = (router as unknown as { opts?: { prefix?: string } }).opts?.prefix ?? '';
  if (!spec.hidden) registry.set(`${spec.method.toUpperCase()} ${prefix}${spec.path}`, { path: `${prefix}${spec.path}`, spec });
  const parsers: Step[] = [];
  if (spec.query) parsers.push(parseQuery(spec.query));
  if (spec.body) parsers.push(bodyStep(spec.body));
  const run: Step = async (ctx) => {
    const input = {
      params: spec.params ? validate(spec.params, { ...(ctx as AppContext & { params?: Record<string, string> }).params }) : undefined,
      query: ctx.state.query,
      body: ctx.state.body,
      principal: undefined as Principal | undefined,
      user: undefined as User | undefined,
    };
    if (spec.auth && 'scope' in spec.auth) {
      input.principal = ctx.state.principal;
      if (!input.principal) throw new AppError('UNAUTHENTICATED');
      if (spec.auth.user) {
        input.user = ctx.state.user;
        if (!input.user) throw new AppError('UNAUTHENTICATED');
      }
    }
    const answer = await handler(input as RouteInput<S>, ctx);
    if (spec.status) ctx.status = spec.status;
    if (answer !== undefined) {
      if (ctx.state.checkResponses && spec.response) checkResponse(spec, answer);
      ctx.body = answer;
    }
  };
  const at = listed.indexOf(PARSE);
  const steps = at === -1 ? [...listed, ...parsers] : [...listed.slice(0, at), ...parsers, ...listed.slice(at + 1)];
  // Composed once here: @koa/router composes a matched route's middleware on every request,
  // flattening the list with a fresh array per element, so one function costs it less than five
  // (docs/benchmarks.md, "What each change bought").
  router[spec.method](spec.path, compose<AppContext>([...steps, run]));
}

/**
 * Where in the steps the query and body are parsed, when a step needs them (a form's CSRF token
 * is in its body): `route(router, spec, htmlPage, requireSession(…), PARSE, csrf.require(), handler)`.
 * Without it they are parsed after the last step.
 */
export const PARSE: Step = (_ctx, next) => next();

function bodyStep(body: NonNullable<RouteSpec['body']>): Step {
  const parse = parseBody(body.schema, { kinds: [body.kind], limit: body.limit, ...(body.before ? { before: body.before } : {}) });
  if (!body.onRefused) return parse;
  const onRefused = body.onRefused;
  return async (ctx, next) => {
    try {
      await parse(ctx, async () => undefined);
    } catch (error) {
      if (error instanceof AppError && error.status < 500) await onRefused(ctx, error);
      throw error;
    }
    await next();
  };
}

/** Tests run with response checks on: an answer that breaks its declared schema is a 500 there. */
function checkResponse(spec: RouteSpec, answer: unknown): void {
  const result = spec.response?.safeParse(answer);
  if (result && !result.success) {
    throw new AppError('INTERNAL_ERROR', {
      cause: new Error(`${spec.method.toUpperCase()} ${spec.path} answered outside its response schema: ${result.error.message}`),
    });
  }
}
