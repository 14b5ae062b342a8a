import type { ParameterizedContext } from 'koa';
import type { Logger } from '../log/index.js';

/**
 * What middleware leaves on `ctx.state` for the steps after it. This library knows no feature:
 * the feature that authenticates requests adds `principal` and `user` to this interface
 * (declaration merging, as Koa's own `DefaultState`), see `sessions/authenticate.ts`.
 */
export interface AppState {
  requestId: string;
  log: Logger;
  clientIp: string;
  /** Render errors as an HTML page instead of problem details (set by page routes). */
  htmlErrors?: boolean;
  /** Render errors as RFC 6749 OAuth error bodies (set by /oauth/* routes). */
  oauthErrors?: boolean;
  /** Check every answer against its route's declared schema (tests). */
  checkResponses?: boolean;
  body?: unknown;
  query?: unknown;
}

export type AppContext = ParameterizedContext<AppState>;
export type Step = (ctx: AppContext, next: () => Promise<unknown>) => Promise<unknown>;
