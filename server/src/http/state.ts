import type { ParameterizedContext } from 'koa';
import type { Logger } from '../log/index.js';
import type { Principal } from '../tokens/index.js';
import type { User } from '../users/index.js';

/** What middleware leaves on `ctx.state` for the steps after it. */
export interface AppState {
  requestId: string;
  log: Logger;
  clientIp: string;
  /** Render errors as an HTML page instead of problem details (set by page routes). */
  htmlErrors?: boolean;
  /** Render errors as RFC 6749 OAuth error bodies (set by /oauth/* routes). */
  oauthErrors?: boolean;
  /** Who the request acts for, once a credential was verified. */
  principal?: Principal;
  /** The principal's user record, on routes that need more than the ids. */
  user?: User;
  body?: unknown;
  query?: unknown;
}

export type AppContext = ParameterizedContext<AppState>;
export type Step = (ctx: AppContext, next: () => Promise<unknown>) => Promise<unknown>;
