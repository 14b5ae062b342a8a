import type { AuditLog } from '../audit/index.js';
import type { RequestMeta } from '../context.js';
import { AppError } from '../errors/index.js';
import type { SessionService } from '../sessions/index.js';
import type { UserStore } from '../users/index.js';
import type { Actor } from './service.js';

/** A feature that keeps records of a person and deletes its own when the account goes. */
export interface UserRecords {
  deleteUserRecords(userId: string): Promise<void>;
}

/**
 * Deleting a person: the account is stopped first (`stopAccount`: disabled, token version
 * bumped, mirrored to every instance, every session revoked), then each feature deletes its own
 * records (`records`, in order), and last the account itself with its identities and key salt.
 * Without the salt the IP addresses sealed under the person's key — in the audit trail, which
 * stays for accountability — can never be decrypted again (crypto-shredding). A ban outlives
 * the account: it is keyed by email, so the person cannot come back.
 */
export class UserDeletion {
  constructor(
    private readonly users: UserStore,
    private readonly sessions: SessionService,
    private readonly records: readonly UserRecords[],
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

    // Stored and mirrored as "disabled": a cached token of a deleted user stays dead on every
    // instance even before MongoDB answers "no such user".
    const { revoked: count } = await this.sessions.stopAccount(userId, 'user_deleted', { to: 'disabled' });
    for (const feature of this.records) await feature.deleteUserRecords(userId);
    await this.users.deleteAccount(userId);
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
