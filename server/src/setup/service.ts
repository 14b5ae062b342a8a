import type { SetupBody } from '@gatehouse/shared';
import type { AuditLog } from '../audit/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { safeEqual } from '../crypto/index.js';
import { AppError, guardStore, isDuplicateKey } from '../errors/index.js';
import { COLLECTIONS } from '../store/index.js';
import { newAccount, UserStore, userChangeAnnouncer } from '../users/index.js';

/**
 * First run. Until an owner exists, the bootstrap password (FIRST_RUN_PASSWORD) lets one
 * caller name the owner; without that variable setup fails closed. The password is compared
 * in constant time and never stored, returned or logged. A marker document with a fixed _id
 * makes "setup done" atomic, so two concurrent setups cannot both succeed.
 */
export class SetupService {
  private readonly users: UserStore;

  constructor(
    private readonly deps: Deps,
    private readonly audit: AuditLog,
  ) {
    this.users = new UserStore(deps.db, userChangeAnnouncer(deps));
  }

  async isComplete(): Promise<boolean> {
    const marker = await guardStore(() => this.deps.db.collection<{ _id: string }>(COLLECTIONS.system).findOne({ _id: 'setup' }));
    return marker !== null || (await this.users.hasOwner());
  }

  /** Throws NOT_FOUND once setup is done: the endpoint is gone. */
  async assertOpen(): Promise<void> {
    if (await this.isComplete()) throw new AppError('NOT_FOUND');
  }

  checkPassword(presented: string | null): void {
    const expected = this.deps.config.FIRST_RUN_PASSWORD;
    if (!expected) throw new AppError('SETUP_DISABLED');
    if (!presented || !safeEqual(presented, expected)) throw new AppError('SETUP_PASSWORD_INVALID');
  }

  async complete(password: string | null, body: SetupBody, meta: RequestMeta): Promise<{ userId: string; email: string }> {
    await this.assertOpen();
    try {
      this.checkPassword(password);
    } catch (error) {
      await this.audit.recordBestEffort(
        { action: 'setup.failed', outcome: 'failure', actor: 'anonymous', details: { reason: (error as AppError).code } },
        meta,
      );
      throw error;
    }
    const now = this.deps.clock.now();
    try {
      await guardStore(() =>
        this.deps.db.collection<{ _id: string; completedAt: Date }>(COLLECTIONS.system).insertOne({ _id: 'setup', completedAt: now }),
      );
    } catch (error) {
      if (isDuplicateKey((error as AppError).cause)) throw new AppError('NOT_FOUND');
      throw error;
    }
    const existing = await this.users.findByEmail(body.email);
    let userId: string;
    if (existing) {
      userId = existing._id;
      await this.users.setRoles(userId, ['admin', 'owner', 'user'], now);
    } else {
      const owner = newAccount(
        { email: body.email, name: body.name ?? body.email, roles: ['admin', 'owner', 'user'], pendingFirstSignIn: true },
        now,
      );
      userId = owner._id;
      await this.users.insertUser(owner);
    }
    await this.audit.record(
      { action: 'setup.completed', outcome: 'success', actor: 'bootstrap', target: `user:${userId}`, details: { role: 'owner' } },
      meta,
    );
    return { userId, email: body.email };
  }
}

/** Reads `Authorization: Bootstrap <password>`; anything else counts as no password. */
export function bootstrapPassword(header: string): string | null {
  const match = /^Bootstrap ([\x21-\x7E]{1,512})$/.exec(header);
  return match?.[1] ?? null;
}
