import type { Scope } from '@gatehouse/shared';
import type { AuditLog } from '../audit/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { AppError } from '../errors/index.js';
import type { ImpersonatedView, ImpersonationResolver } from '../sessions/index.js';
import type { Authenticator, Principal, RevocationState, TokenIssuer } from '../tokens/index.js';
import type { User, UserStore } from '../users/index.js';

/** A support view lasts at most this long. */
export const MAX_MINUTES = 15;
/** What a support view may read: the person's profile, sessions and activity. Nothing else. */
const READ_ONLY_SCOPES: readonly Scope[] = ['profile:read', 'sessions:read', 'activity:read'];

/**
 * Support access (docs/impersonation.md). An allowed admin (IMPERSONATION=owner|admins) starts
 * a read-only view as a person who is neither an owner nor an admin, with a stated reason, for at
 * most 15 minutes. The view is a JWT of its own `typ` (`gh-imp+jwt`) in its own cookie, bound to
 * the admin's browser session by `sid`: it dies with that session, when stopped (its jti is
 * denied), when the person's token version moves, and when the admin loses the right to it.
 * Writes are refused for every route in sessions/authenticate.ts.
 */
export class ImpersonationService implements ImpersonationResolver {
  constructor(
    private readonly deps: Deps,
    private readonly users: UserStore,
    private readonly issuer: TokenIssuer,
    private readonly authenticator: Authenticator,
    private readonly revocation: RevocationState,
    private readonly audit: AuditLog,
  ) {}

  /** Whether `admin` may start a view of `target` now (the console offers the form only then). */
  allowed(admin: User, target: User): boolean {
    return this.adminAllowed(admin) && admin._id !== target._id && viewable(target);
  }

  async start(
    admin: User,
    adminSession: Principal,
    targetId: string,
    input: { reason: string; minutes: number },
    meta: RequestMeta,
  ): Promise<{ token: string; maxAgeSeconds: number }> {
    if (adminSession.type !== 'session' || !adminSession.sessionId || adminSession.userId !== admin._id) throw new AppError('FORBIDDEN');
    const target = await this.users.findById(targetId);
    if (!target) throw new AppError('NOT_FOUND');
    if (!this.allowed(admin, target)) {
      await this.audit.recordBestEffort(
        {
          action: 'impersonation.started',
          outcome: 'refused',
          actor: `user:${admin._id}`,
          target: `user:${target._id}`,
          details: { reason: 'not_allowed' },
        },
        meta,
      );
      throw new AppError('FORBIDDEN', { detail: 'Support access is not allowed for this account.' });
    }
    const minutes = Math.min(Math.max(1, Math.floor(input.minutes)), MAX_MINUTES);
    const { token } = await this.issuer.mint('impersonation', {
      sub: target._id,
      tokenVersion: target.tokenVersion,
      ttlSeconds: minutes * 60,
      sid: adminSession.sessionId,
    });
    await this.audit.record(
      {
        action: 'impersonation.started',
        outcome: 'success',
        actor: `user:${admin._id}`,
        target: `user:${target._id}`,
        details: { reason: input.reason, count: minutes },
        ipOwner: { userId: admin._id, keySalt: admin.keySalt },
      },
      meta,
    );
    return { token, maxAgeSeconds: minutes * 60 };
  }

  async resolve(token: string, admin: Principal): Promise<ImpersonatedView | null> {
    if (admin.type !== 'session' || !admin.sessionId) return null;
    let viewed: Principal;
    try {
      // Signature, typ, audience, expiry, the jti denylist and the person's token version.
      viewed = await this.authenticator.authenticate(token, 'impersonation');
    } catch (error) {
      if (error instanceof AppError && error.status < 500) return null;
      throw error;
    }
    // Made in this very session: another browser, or the admin's next session, has no view.
    if (viewed.claims.sid !== admin.sessionId) return null;
    const [adminUser, target] = await Promise.all([this.users.findById(admin.userId), this.users.findById(viewed.userId)]);
    if (!adminUser || !target || !this.allowed(adminUser, target)) return null;
    return {
      principal: { type: 'impersonation', userId: target._id, sessionId: null, scopes: READ_ONLY_SCOPES, claims: viewed.claims },
      banner: {
        viewedName: target.name,
        viewedEmail: target.email ?? null,
        adminName: adminUser.name,
        until: new Date(viewed.claims.exp * 1000),
        adminSessionId: admin.sessionId,
      },
    };
  }

  /** Stops a view: its token is denied at once (every instance), audited. */
  async stop(token: string, admin: Principal, meta: RequestMeta): Promise<string | null> {
    const view = await this.resolve(token, admin);
    if (!view) return null;
    await this.revocation.denyToken(view.principal.claims.jti, new Date(view.principal.claims.exp * 1000));
    await this.audit.record(
      {
        action: 'impersonation.ended',
        outcome: 'success',
        actor: `user:${admin.userId}`,
        target: `user:${view.principal.userId}`,
        details: { reason: 'stopped' },
      },
      meta,
    );
    return view.principal.userId;
  }

  private adminAllowed(admin: User): boolean {
    const mode = this.deps.config.IMPERSONATION;
    if (admin.status !== 'active') return false;
    if (mode === 'owner') return admin.roles.includes('owner');
    if (mode === 'admins') return admin.roles.includes('owner') || admin.roles.includes('admin');
    return false;
  }
}

/** Never an owner or an admin, never an account that cannot sign in. */
function viewable(target: User): boolean {
  return target.status === 'active' && !target.roles.includes('owner') && !target.roles.includes('admin');
}
