import type { AuditLog } from '../audit/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { AppError, guardStore } from '../errors/index.js';
import type { SessionService } from '../sessions/index.js';
import { COLLECTIONS } from '../store/index.js';
import type { RevocationState } from '../tokens/index.js';
import type { UserStore } from '../users/index.js';
import type { Actor } from './service.js';

/**
 * Deleting a person: every token dies first (tokenVersion bump, mirrored to every instance),
 * then their identities, sessions and paired credentials go, and last the account itself with
 * its key salt. Without the salt the IP addresses sealed under the person's key — in the audit
 * trail, which stays for accountability — can never be decrypted again (crypto-shredding).
 * A ban outlives the account: it is keyed by email, so the person cannot come back.
 */
export class UserDeletion {
  constructor(
    private readonly deps: Deps,
    private readonly users: UserStore,
    private readonly sessions: SessionService,
    private readonly revocation: RevocationState,
    private readonly audit: AuditLog,
  ) {}

  /** Owners (or an operator's shell) delete; never an owner, never oneself. */
  async delete(actor: Actor, userId: string, meta?: RequestMeta): Promise<void> {
    if (actor.kind === 'user') {
      if (!actor.user.roles.includes('owner')) throw new AppError('FORBIDDEN');
      if (actor.user._id === userId) throw new AppError('FORBIDDEN', { detail: 'You cannot delete your own account here.' });
    }
    const user = await this.users.findById(userId);
    if (!user) throw new AppError('NOT_FOUND');
    if (user.roles.includes('owner')) throw new AppError('FORBIDDEN');

    const count = await this.sessions.revokeAll(userId, 'user_deleted');
    // The mirror says "disabled" until it expires: a cached token of a deleted user stays dead
    // on every instance even before MongoDB answers "no such user".
    await this.revocation.userChanged(userId, { tokenVersion: user.tokenVersion + 1, status: 'disabled' });
    const { db } = this.deps;
    await guardStore(() => db.collection(COLLECTIONS.identities).deleteMany({ userId }));
    await guardStore(() => db.collection(COLLECTIONS.refreshTokens).deleteMany({ userId }));
    await guardStore(() => db.collection(COLLECTIONS.sessions).deleteMany({ userId }));
    await guardStore(() => db.collection(COLLECTIONS.pairings).deleteMany({ userId }));
    await guardStore(() => this.users.users.deleteOne({ _id: userId }));
    await this.audit.record(
      {
        action: 'user.deleted',
        outcome: 'success',
        actor: actor.kind === 'user' ? `user:${actor.user._id}` : actor.kind,
        target: `user:${userId}`,
        details: { count },
      },
      meta,
    );
  }
}
