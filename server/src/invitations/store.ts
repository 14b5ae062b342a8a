import type { Collection, Db } from 'mongodb';
import { guardStore, insertUnique } from '../errors/index.js';
import { COLLECTIONS } from '../store/index.js';

export type InvitationStatus = 'pending' | 'accepted' | 'revoked';

/** One invitation of an email address (docs/invitations.md). The link's token is never stored. */
export interface Invitation {
  _id: string;
  /** Canonical address invited. */
  email: string;
  /** The `jti` of the one token minted for it: only that token opens it. */
  tokenJti: string;
  /** `user:<id>` or `cli`. */
  invitedBy: string;
  createdAt: Date;
  expiresAt: Date;
  /** Whether the SMTP server took the mail; false: the admin was shown the link to pass on. */
  mailed: boolean;
  /** Kept in step with the claim below, for listing; the claim is what decides. */
  status: InvitationStatus;
  acceptedBy?: string;
  endedAt?: Date;
}

/**
 * The end of an invitation, accepted or withdrawn, as a unique insert: FerretDB makes unique
 * inserts atomic where it does not make guarded updates atomic, so two concurrent accepts, or
 * an accept racing a withdrawal, end with exactly one winner.
 */
interface InvitationClaim {
  _id: string;
  outcome: 'accepted' | 'revoked';
  userId?: string;
  at: Date;
}

/** The one owner of the `invitations` and `invitation_claims` collections. */
export class InvitationStore {
  private readonly invitations: Collection<Invitation>;
  private readonly claims: Collection<InvitationClaim>;

  constructor(db: Db) {
    this.invitations = db.collection<Invitation>(COLLECTIONS.invitations);
    this.claims = db.collection<InvitationClaim>(COLLECTIONS.invitationClaims);
  }

  insert(invitation: Invitation): Promise<unknown> {
    return guardStore(() => this.invitations.insertOne(invitation));
  }

  findById(id: string): Promise<Invitation | null> {
    return guardStore(() => this.invitations.findOne({ _id: id }));
  }

  /** Pending invitations of this address that have not expired. */
  findOpen(email: string, now: Date): Promise<Invitation | null> {
    return guardStore(() => this.invitations.findOne({ email, status: 'pending', expiresAt: { $gt: now } }));
  }

  /** Newest first; `before` pages on creation time. */
  list(limit: number, before?: Date): Promise<Invitation[]> {
    return guardStore(() =>
      this.invitations
        .find(before ? { createdAt: { $lt: before } } : {})
        .sort({ createdAt: -1 })
        .limit(limit)
        .toArray(),
    );
  }

  setMailed(id: string, mailed: boolean): Promise<unknown> {
    return guardStore(() => this.invitations.updateOne({ _id: id }, { $set: { mailed } }));
  }

  /** Ends the invitation once; false when it had already ended (accepted or withdrawn). */
  async end(id: string, outcome: InvitationClaim['outcome'], at: Date, userId?: string): Promise<boolean> {
    const won = await insertUnique(() => this.claims.insertOne({ _id: id, outcome, at, ...(userId ? { userId } : {}) }));
    if (!won) return false;
    await guardStore(() =>
      this.invitations.updateOne({ _id: id }, { $set: { status: outcome, endedAt: at, ...(userId ? { acceptedBy: userId } : {}) } }),
    );
    return true;
  }

  /** Account deletion: the invitations a person accepted no longer name them. */
  async deleteUserRecords(userId: string): Promise<void> {
    await guardStore(() => this.invitations.updateMany({ acceptedBy: userId }, { $unset: { acceptedBy: '' } }));
    await guardStore(() => this.claims.updateMany({ userId }, { $unset: { userId: '' } }));
  }

  /** Sweeper: invitations ended or expired more than `before` ago. */
  async prune(before: Date): Promise<number> {
    const old = await guardStore(() =>
      this.invitations.find({ $or: [{ expiresAt: { $lt: before } }, { endedAt: { $lt: before } }] }, { projection: { _id: 1 } }).toArray(),
    );
    const ids = old.map((doc) => doc._id);
    if (ids.length === 0) return 0;
    await guardStore(() => this.claims.deleteMany({ _id: { $in: ids } }));
    const { deletedCount } = await guardStore(() => this.invitations.deleteMany({ _id: { $in: ids } }));
    return deletedCount;
  }
}
