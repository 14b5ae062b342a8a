/** OpenID Shared Signals receiver: CAEP and RISC security events pushed by trusted transmitters. */
import type { AdminService } from '../admin/index.js';
import type { AuditLog } from '../audit/index.js';
import type { Deps } from '../context.js';
import { LogoutTokenReplayStore } from '../oidc/index.js';
import type { SessionService } from '../sessions/index.js';
import type { UserStore } from '../users/index.js';
import { SignalReceiver } from './receiver.js';
import { signalsRoutes } from './routes.js';
import { SET_CLOCK_TOLERANCE_SECONDS, SET_MAX_AGE_SECONDS } from './set-token.js';
import { TransmitterRegistry } from './transmitters.js';

/**
 * The `/ssf/events/<transmitter>` router, wired from the services an admin uses. The jti replay
 * store is back-channel logout's (same contract: atomic SET NX, fail closed), namespaced per
 * transmitter as `ssf:<id>`.
 */
export function ssfRoutes(deps: Deps, services: { users: UserStore; sessions: SessionService; admin: AdminService; audit: AuditLog }) {
  const replay = new LogoutTokenReplayStore(deps.redis, SET_MAX_AGE_SECONDS + 2 * SET_CLOCK_TOLERANCE_SECONDS);
  const receiver = new SignalReceiver(
    deps,
    new TransmitterRegistry(deps.config),
    services.users,
    services.sessions,
    services.admin,
    services.audit,
    replay,
  );
  return signalsRoutes({ receiver, bodyLimit: deps.config.BODY_LIMIT_BYTES });
}
