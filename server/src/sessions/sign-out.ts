import type { AuditLog } from '../audit/index.js';
import type { RequestMeta } from '../context.js';
import type { Principal, RevocationState } from '../tokens/index.js';
import type { UserStore } from '../users/index.js';
import type { SessionService } from './service.js';

/**
 * Ends the current browser session: the record is revoked and the cookie token's jti goes on
 * the denylist, both mirrored to Redis before this returns, so the cookie is refused on the
 * next request on every instance.
 */
export async function signOut(
  deps: { sessions: SessionService; revocation: RevocationState; audit: AuditLog; users: UserStore },
  principal: Principal,
  meta: RequestMeta,
): Promise<void> {
  if (principal.sessionId) await deps.sessions.revoke(principal.sessionId, principal.userId, 'logout');
  await deps.revocation.denyToken(principal.claims.jti, new Date(principal.claims.exp * 1000));
  const user = await deps.users.findById(principal.userId);
  await deps.audit.recordBestEffort(
    {
      action: 'logout.completed',
      outcome: 'success',
      actor: `user:${principal.userId}`,
      target: `session:${principal.sessionId}`,
      ...(user ? { ipOwner: { userId: user._id, keySalt: user.keySalt } } : {}),
    },
    meta,
  );
}
