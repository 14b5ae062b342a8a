import type { ParameterizedContext } from 'koa';
import type { Logger } from '../log/index.js';
import type { AuthenticatedSession } from '../sessions/index.js';

/** What middleware leaves on `ctx.state` for the steps after it. */
export interface AppState {
  requestId: string;
  log: Logger;
  clientIp: string;
  /** Render errors as an HTML page instead of problem details (set by page routes). */
  htmlErrors?: boolean;
  auth?: AuthenticatedSession;
  body?: unknown;
  query?: unknown;
}

export type AppContext = ParameterizedContext<AppState>;
export type Step = (ctx: AppContext, next: () => Promise<unknown>) => Promise<unknown>;
