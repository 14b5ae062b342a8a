import type { SessionKind } from '@gatehouse/shared';
import type { AuditLog } from '../audit/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { AppError } from '../errors/index.js';
import type { SessionService } from '../sessions/index.js';
import type { UserStore } from '../users/index.js';
import type { LogoutTokenReplayStore } from './backchannel-replay.js';
import { type LogoutClaims, LogoutTokenRejected, verifyLogoutToken } from './backchannel-token.js';
import type { ProviderRegistry } from './providers.js';

/**
 * OpenID Connect Back-Channel Logout 1.0, receiving side: the provider tells us a session of
 * its own ended, and we end the Gatehouse sessions that came from it — by `sid` the browser
 * sessions signed in through that provider session, by `sub` every browser session of the
 * account behind that identity (and its paired extensions when BACKCHANNEL_LOGOUT_EXTENSIONS
 * says so). Revocation goes through SessionService, so it is mirrored to Redis and refused on
 * the very next request on every instance. API tokens are the user's own and stay.
 */
export class BackchannelLogout {
  constructor(
    private readonly deps: Deps,
    private readonly providers: ProviderRegistry,
    private readonly sessions: SessionService,
    private readonly users: UserStore,
    private readonly audit: AuditLog,
    private readonly replay: LogoutTokenReplayStore,
  ) {}

  /** Validates the logout token and ends the matching sessions; returns how many ended. */
  async receive(providerId: string, logoutToken: string, meta: RequestMeta): Promise<number> {
    const provider = this.providers.get(providerId);
    const refuse = async (reason: string, error: AppError): Promise<never> => {
      await this.audit.recordBestEffort(
        { action: 'backchannel_logout.received', outcome: 'failure', actor: 'system', details: { provider: provider.id, reason } },
        meta,
      );
      throw error;
    };

    let claims: LogoutClaims;
    try {
      const keys = await this.providers.signingKeys(provider);
      claims = await verifyLogoutToken(logoutToken, {
        issuer: provider.issuer,
        clientId: provider.clientId,
        keys,
        now: this.deps.clock.now(),
      });
    } catch (error) {
      if (error instanceof LogoutTokenRejected) return refuse(error.reason, new AppError('VALIDATION_FAILED', { cause: error }));
      if (error instanceof AppError && error.status < 500) throw error;
      // The provider's discovery or JWKS can't be read: 503 with RFC 6749's
      // `temporarily_unavailable`, so that the provider retries later.
      return refuse('provider_unavailable', new AppError('DEPENDENCY_UNAVAILABLE', { cause: error }));
    }

    let fresh: boolean;
    try {
      fresh = await this.replay.claim(provider.id, claims.jti);
    } catch (error) {
      return refuse(
        'replay_check_unavailable',
        error instanceof AppError ? error : new AppError('DEPENDENCY_UNAVAILABLE', { cause: error }),
      );
    }
    if (!fresh) return refuse('replayed', new AppError('VALIDATION_FAILED'));

    try {
      const { userId, count } = await this.endSessions(provider.id, provider.issuer, claims);
      await this.audit.record(
        {
          action: 'backchannel_logout.received',
          outcome: 'success',
          actor: 'system',
          ...(userId ? { target: `user:${userId}` } : {}),
          details: { provider: provider.id, reason: claims.sid ? 'sid' : 'sub', count },
        },
        meta,
      );
      return count;
    } catch (error) {
      // Nothing (or not everything) was ended: let the provider's retry through.
      await this.replay.release(provider.id, claims.jti).catch(() => undefined);
      throw error;
    }
  }

  /** A request without a readable logout token (wrong content type, missing or extra fields). */
  async recordUnreadable(providerId: string, meta: RequestMeta): Promise<void> {
    const known = this.providers.list().some((provider) => provider.id === providerId);
    await this.audit.recordBestEffort(
      {
        action: 'backchannel_logout.received',
        outcome: 'failure',
        actor: 'system',
        details: { ...(known ? { provider: providerId } : {}), reason: 'request_invalid' },
      },
      meta,
    );
  }

  private async endSessions(providerId: string, issuer: string, claims: LogoutClaims): Promise<{ userId: string | null; count: number }> {
    const identity = claims.sub ? await this.users.findIdentity(issuer, claims.sub) : null;
    if (claims.sid) {
      const matches = await this.sessions.findUnrevoked({ providerId, upstreamSid: claims.sid }, ['browser']);
      // With both sid and sub, the sid's sessions must also belong to that subject's account.
      const owned = claims.sub ? matches.filter((session) => session.userId === identity?.userId) : matches;
      let count = 0;
      for (const [userId, ids] of groupByUser(owned)) count += await this.sessions.revokeMany(userId, ids, 'backchannel_logout');
      return { userId: owned[0]?.userId ?? null, count };
    }
    if (!identity) return { userId: null, count: 0 };
    const kinds: SessionKind[] = this.deps.config.BACKCHANNEL_LOGOUT_EXTENSIONS ? ['browser', 'extension'] : ['browser'];
    const matches = await this.sessions.findUnrevoked({ userId: identity.userId }, kinds);
    const count = await this.sessions.revokeMany(
      identity.userId,
      matches.map((session) => session._id),
      'backchannel_logout',
    );
    return { userId: identity.userId, count };
  }
}

function groupByUser(sessions: { _id: string; userId: string }[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const session of sessions) groups.set(session.userId, [...(groups.get(session.userId) ?? []), session._id]);
  return groups;
}
