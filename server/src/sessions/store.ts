import type { SessionKind } from '@gatehouse/shared';
import type { Collection, Db } from 'mongodb';
import { guardStore } from '../errors/index.js';
import { COLLECTIONS } from '../store/index.js';

export interface SessionRecord {
  _id: string;
  userId: string;
  kind: SessionKind;
  createdAt: Date;
  lastSeenAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
  revokedAt: Date | null;
  revokeReason: string | null;
  /** A short summary such as "Chrome 156 on Linux" (never the raw header), or an API token's name. */
  device: string;
  /** Scopes of an API token or paired client; absent for browser sessions (full rights). */
  scopes?: string[];
  /** The client address, encrypted under the user's key, and its blind index. */
  ip: string | null;
  ipIndex: string | null;
  providerId: string | null;
  /** The provider's `sid`, for back-channel logout. */
  upstreamSid: string | null;
  /** A paired client's session: its pairing, client and the thumbprint of the key it is bound to. */
  pairingId?: string;
  clientId?: string;
  jkt?: string;
}

/**
 * Session records. Contract: a record is honoured only when `revokedAt` is null and both
 * expiries are in the future — checked by the reader, since FerretDB has no TTL indexes;
 * revocation is an update guarded by `revokedAt: null`, so it happens once.
 */
export class SessionStore {
  private readonly sessions: Collection<SessionRecord>;

  constructor(db: Db) {
    this.sessions = db.collection<SessionRecord>(COLLECTIONS.sessions);
  }

  insert(record: SessionRecord): Promise<unknown> {
    return guardStore(() => this.sessions.insertOne(record));
  }

  findById(id: string): Promise<SessionRecord | null> {
    return guardStore(() => this.sessions.findOne({ _id: id }));
  }

  /**
   * Every session of a user not yet revoked, newest first, at most `limit` (the session-list
   * cache's fill; the `user_revoked` index serves it on MongoDB).
   */
  listUnrevoked(userId: string, limit: number): Promise<SessionRecord[]> {
    return guardStore(() => this.sessions.find({ userId, revokedAt: null }).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray());
  }

  /** Active sessions of a user, newest first, `limit` at a time after the `before` cursor. */
  listActive(userId: string, now: Date, limit: number, before?: { createdAt: Date; id: string }): Promise<SessionRecord[]> {
    const page = before
      ? { $or: [{ createdAt: { $lt: before.createdAt } }, { createdAt: before.createdAt, _id: { $lt: before.id } }] }
      : {};
    return guardStore(() =>
      this.sessions
        .find({ userId, revokedAt: null, idleExpiresAt: { $gt: now }, absoluteExpiresAt: { $gt: now }, ...page })
        .sort({ createdAt: -1, _id: -1 })
        .limit(limit)
        .toArray(),
    );
  }

  /** Moves lastSeen and the idle expiry forward, at most once per `throttleMs`; null when not due or not active. */
  touch(id: string, now: Date, idleMs: number, throttleMs: number): Promise<SessionRecord | null> {
    return guardStore(() =>
      this.sessions.findOneAndUpdate(
        { _id: id, revokedAt: null, absoluteExpiresAt: { $gt: now }, lastSeenAt: { $lt: new Date(now.getTime() - throttleMs) } },
        { $set: { lastSeenAt: now, idleExpiresAt: new Date(now.getTime() + idleMs) } },
        { returnDocument: 'after' },
      ),
    );
  }

  /**
   * Ids and owners of the sessions not yet revoked that match: by the provider's `sid` of
   * the sign-in (back-channel logout) or by user — optionally only those paired by one client
   * key — limited to the given kinds.
   */
  findUnrevoked(
    match: { providerId: string; upstreamSid: string } | { userId: string; pairedWith?: { clientId: string; jkt: string } },
    kinds: readonly SessionKind[],
  ): Promise<Pick<SessionRecord, '_id' | 'userId'>[]> {
    const filter =
      'userId' in match
        ? { userId: match.userId, ...(match.pairedWith ?? {}) }
        : { providerId: match.providerId, upstreamSid: match.upstreamSid };
    return guardStore(() =>
      this.sessions
        .find({ ...filter, revokedAt: null, kind: { $in: [...kinds] } }, { projection: { _id: 1, userId: 1 } })
        .limit(1000)
        .toArray(),
    );
  }

  /** The sweeper's part: sessions that ended (absolute expiry) before `before`. Returns how many went. */
  async deleteEndedBefore(before: Date): Promise<number> {
    return (await guardStore(() => this.sessions.deleteMany({ absoluteExpiresAt: { $lt: before } }))).deletedCount;
  }

  async deleteForUser(userId: string): Promise<void> {
    await guardStore(() => this.sessions.deleteMany({ userId }));
  }

  /** Revokes the user's sessions matching `filter` that are not revoked yet; returns what it revoked. */
  async revokeWhere(userId: string, filter: { ids?: string[]; exceptId?: string }, now: Date, reason: string): Promise<SessionRecord[]> {
    const query = {
      userId,
      revokedAt: null,
      ...(filter.ids ? { _id: { $in: filter.ids } } : {}),
      ...(filter.exceptId ? { _id: { $ne: filter.exceptId } } : {}),
    };
    const targets = await guardStore(() => this.sessions.find(query, { projection: { _id: 1, absoluteExpiresAt: 1 } }).toArray());
    if (targets.length === 0) return [];
    const ids = targets.map((target) => target._id);
    await guardStore(() =>
      this.sessions.updateMany({ _id: { $in: ids }, revokedAt: null }, { $set: { revokedAt: now, revokeReason: reason } }),
    );
    return targets as SessionRecord[];
  }
}
