import type { Role, UserStatus } from '@gatehouse/shared';
import type { Collection, Db, Filter } from 'mongodb';
import { guardStore, insertUnique } from '../errors/index.js';
import { COLLECTIONS } from '../store/index.js';

export interface User {
  _id: string;
  /** Canonical email; set only when verified and not held by another user. */
  email?: string;
  name: string;
  status: UserStatus;
  roles: Role[];
  /** Roles an owner granted by hand: they stay whatever the identity provider's groups say. */
  grantedRoles?: Role[];
  /** Bumped to kill every token of the user at once. */
  tokenVersion: number;
  /** Random salt of the user's IP encryption key; removing it crypto-shreds their IPs. */
  keySalt: string;
  /** Created by setup or invitation and waiting for its first identity. */
  pendingFirstSignIn?: boolean;
  /** A new address asked for on the account page, waiting for its confirmation link (docs/profile.md). */
  pendingEmail?: { email: string; jti: string; expiresAt: Date };
  createdAt: Date;
  updatedAt: Date;
  lastSignInAt?: Date;
}

/** A person's account at one identity provider, keyed by (iss, sub) — never by email. */
export interface Identity {
  _id: string;
  iss: string;
  sub: string;
  providerId: string;
  userId: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  groups: string[];
  createdAt: Date;
  lastSignInAt: Date;
}

/**
 * Storage of users, identities and bans — the only writer of these collections. Contract:
 * identities are unique by (iss, sub) and emails by their canonical form (both enforced by
 * scalar unique indexes); `insertIdentity` and `insertUser` report a conflict as `false` instead
 * of throwing, so callers can re-read.
 */
export class UserStore {
  private readonly users: Collection<User>;
  private readonly identities: Collection<Identity>;
  private readonly bans: Collection<{ _id: string; userId?: string; at?: Date }>;
  private readonly claims: Collection<{ _id: string; at: Date }>;

  constructor(
    db: Db,
    /** Announces a changed user record to every instance's user cache (users/cache.ts). */
    readonly onChange: (userId: string) => Promise<void> = async () => undefined,
  ) {
    this.users = db.collection<User>(COLLECTIONS.users);
    this.identities = db.collection<Identity>(COLLECTIONS.identities);
    this.bans = db.collection(COLLECTIONS.bans);
    this.claims = db.collection<{ _id: string; at: Date }>(COLLECTIONS.system);
  }

  /** Whether a canonical email belongs to a banned account (a ban follows the person). */
  async isBanned(email: string): Promise<boolean> {
    return (await guardStore(() => this.bans.findOne({ _id: email }))) !== null;
  }

  findById(id: string): Promise<User | null> {
    return guardStore(() => this.users.findOne({ _id: id }));
  }

  findByEmail(email: string): Promise<User | null> {
    return guardStore(() => this.users.findOne({ email }));
  }

  findIdentity(iss: string, sub: string): Promise<Identity | null> {
    return guardStore(() => this.identities.findOne({ iss, sub }));
  }

  listIdentities(userId: string): Promise<Identity[]> {
    return guardStore(() => this.identities.find({ userId }).sort({ createdAt: 1 }).limit(50).toArray());
  }

  async insertUser(user: User): Promise<boolean> {
    return insertUnique(() => this.users.insertOne(user));
  }

  async insertIdentity(identity: Identity): Promise<boolean> {
    return insertUnique(() => this.identities.insertOne(identity));
  }

  async recordSignIn(
    identityId: string,
    userId: string,
    seen: Pick<Identity, 'email' | 'emailVerified' | 'name' | 'groups'>,
    at: Date,
    roles: Role[],
  ): Promise<void> {
    await guardStore(() =>
      Promise.all([
        this.identities.updateOne({ _id: identityId }, { $set: { ...seen, lastSignInAt: at } }),
        this.users.updateOne({ _id: userId }, { $set: { lastSignInAt: at, updatedAt: at, roles } }),
      ]),
    );
    await this.onChange(userId);
  }

  /** Claims an account made by setup or invitation; only one sign-in can win it. */
  async claimPending(userId: string, at: Date): Promise<User | null> {
    // The claim is a unique insert, not a guarded update: FerretDB lets several concurrent
    // guarded updates of one document succeed (see docs/architecture.md, "Atomicity").
    if (!(await insertUnique(() => this.claims.insertOne({ _id: `first-sign-in:${userId}`, at })))) return null;
    const claimed = await guardStore(() =>
      this.users.findOneAndUpdate(
        { _id: userId },
        { $unset: { pendingFirstSignIn: '' }, $set: { updatedAt: at } },
        { returnDocument: 'after' },
      ),
    );
    await this.onChange(userId);
    return claimed;
  }

  /**
   * Bumps the token version (every token of the user dies) and, with `status`, changes the
   * status — only from `from` when given, so a concurrent change is noticed (null). Callers go
   * through `SessionService.stopAccount`, which also mirrors and announces the change.
   */
  stop(userId: string, at: Date, status?: { to: UserStatus; from?: UserStatus }): Promise<User | null> {
    const filter: Filter<User> = status?.from ? { _id: userId, status: status.from } : { _id: userId };
    return guardStore(() =>
      this.users.findOneAndUpdate(
        filter,
        { $inc: { tokenVersion: 1 }, $set: { updatedAt: at, ...(status ? { status: status.to } : {}) } },
        { returnDocument: 'after' },
      ),
    );
  }

  /** Changes the status without stopping tokens (enable, unban), only from `from`; null on a concurrent change. */
  resume(userId: string, from: UserStatus, at: Date): Promise<User | null> {
    return guardStore(() =>
      this.users.findOneAndUpdate(
        { _id: userId, status: from },
        { $set: { status: 'active', updatedAt: at } },
        { returnDocument: 'after' },
      ),
    );
  }

  /** Sets the roles (and, when given, the roles granted by hand); every instance's cached copy goes. */
  async setRoles(userId: string, roles: Role[], at: Date, grantedRoles?: Role[]): Promise<User | null> {
    const user = await guardStore(() =>
      this.users.findOneAndUpdate(
        { _id: userId },
        { $set: { roles, ...(grantedRoles ? { grantedRoles } : {}), updatedAt: at } },
        { returnDocument: 'after' },
      ),
    );
    await this.onChange(userId);
    return user;
  }

  /** The person's own display name (docs/profile.md). */
  async setName(userId: string, name: string, at: Date): Promise<User | null> {
    const user = await guardStore(() =>
      this.users.findOneAndUpdate({ _id: userId }, { $set: { name, updatedAt: at } }, { returnDocument: 'after' }),
    );
    await this.onChange(userId);
    return user;
  }

  /** Remembers the address a confirmation link was sent to; a later request replaces it. */
  async setPendingEmail(userId: string, pending: NonNullable<User['pendingEmail']>, at: Date): Promise<void> {
    await guardStore(() => this.users.updateOne({ _id: userId }, { $set: { pendingEmail: pending, updatedAt: at } }));
  }

  /**
   * The confirmed address becomes the account's, if the link is the latest one sent (its jti).
   * `null`: no such pending change (already used or replaced); `false`: another account took it.
   */
  async confirmEmail(userId: string, jti: string, at: Date): Promise<User | null | false> {
    const user = await this.findById(userId);
    if (!user?.pendingEmail || user.pendingEmail.jti !== jti) return null;
    let updated: User | null = null;
    const stored = await insertUnique(async () => {
      updated = await this.users.findOneAndUpdate(
        { _id: userId, 'pendingEmail.jti': jti },
        { $set: { email: user.pendingEmail?.email, updatedAt: at }, $unset: { pendingEmail: '' } },
        { returnDocument: 'after' },
      );
    });
    if (!stored) return false;
    await this.onChange(userId);
    return updated;
  }

  /** Users matching a filter built by the caller from parsed values, in id order, after `afterId`. */
  page(filter: Filter<User>, limit: number, afterId?: string): Promise<User[]> {
    return guardStore(() =>
      this.users
        .find(afterId ? { ...filter, _id: { $gt: afterId } } : filter)
        .sort({ _id: 1 })
        .limit(limit)
        .toArray(),
    );
  }

  /** The `limit` users just before `beforeId` in id order, returned in id order. */
  async pageBefore(filter: Filter<User>, limit: number, beforeId: string): Promise<User[]> {
    const found = await guardStore(() =>
      this.users
        .find({ ...filter, _id: { $lt: beforeId } })
        .sort({ _id: -1 })
        .limit(limit)
        .toArray(),
    );
    return found.reverse();
  }

  /** Bans every given email for the user: a ban follows the person, whatever identity they come back with. */
  async recordBan(userId: string, emails: Iterable<string>, at: Date): Promise<void> {
    for (const email of emails) {
      await guardStore(() => this.bans.updateOne({ _id: email }, { $set: { userId, at } }, { upsert: true }));
    }
  }

  async liftBan(userId: string): Promise<void> {
    await guardStore(() => this.bans.deleteMany({ userId }));
  }

  /** Removes a user created by a sign-in that lost a race, as long as it never signed in. */
  async removeUnused(userId: string): Promise<void> {
    await guardStore(() => this.users.deleteOne({ _id: userId, lastSignInAt: { $exists: false } }));
  }

  /** Deletes the user's identities and then the account with its key salt (crypto-shredding); bans stay. */
  async deleteAccount(userId: string): Promise<void> {
    await guardStore(() => this.identities.deleteMany({ userId }));
    await guardStore(() => this.users.deleteOne({ _id: userId }));
    await this.onChange(userId);
  }

  async hasOwner(): Promise<boolean> {
    return guardStore(async () => (await this.users.countDocuments({ roles: 'owner' }, { limit: 1 })) > 0);
  }
}
