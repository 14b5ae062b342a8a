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
  /** A short summary such as "Chrome 156 on Linux", never the raw header. */
  device: string;
  /** The client address, encrypted under the user's key, and its blind index. */
  ip: string | null;
  ipIndex: string | null;
  providerId: string | null;
  /** The provider's `sid`, for back-channel logout. */
  upstreamSid: string | null;
}

/**
 * Session records. Contract: a record is honoured only when `revokedAt` is null and both
 * expiries are in the future — checked by the reader on every read, since FerretDB has no TTL
 * indexes; revocation is a single-document update guarded by `revokedAt: null`.
 */
export class SessionStore {
  readonly sessions: Collection<SessionRecord>;

  constructor(db: Db) {
    this.sessions = db.collection<SessionRecord>(COLLECTIONS.sessions);
  }

  insert(record: SessionRecord): Promise<unknown> {
    return guardStore(() => this.sessions.insertOne(record));
  }

  findById(id: string): Promise<SessionRecord | null> {
    return guardStore(() => this.sessions.findOne({ _id: id }));
  }

  listActive(userId: string, now: Date, limit = 100): Promise<SessionRecord[]> {
    return guardStore(() =>
      this.sessions
        .find({ userId, revokedAt: null, idleExpiresAt: { $gt: now }, absoluteExpiresAt: { $gt: now } })
        .sort({ lastSeenAt: -1 })
        .limit(limit)
        .toArray(),
    );
  }

  /** Moves lastSeen (and the idle expiry) forward, at most once per `throttleMs`. */
  touch(id: string, now: Date, idleMs: number, throttleMs: number): Promise<unknown> {
    return guardStore(() =>
      this.sessions.updateOne(
        { _id: id, revokedAt: null, lastSeenAt: { $lt: new Date(now.getTime() - throttleMs) } },
        { $set: { lastSeenAt: now, idleExpiresAt: new Date(now.getTime() + idleMs) } },
      ),
    );
  }

  /** Revokes one session; returns false when it was already revoked or isn't the user's. */
  async revoke(id: string, userId: string, now: Date, reason: string): Promise<boolean> {
    const result = await guardStore(() =>
      this.sessions.updateOne({ _id: id, userId, revokedAt: null }, { $set: { revokedAt: now, revokeReason: reason } }),
    );
    return result.modifiedCount === 1;
  }
}
