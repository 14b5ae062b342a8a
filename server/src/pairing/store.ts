import type { Collection, Db } from 'mongodb';
import { guardStore, insertUnique } from '../errors/index.js';
import { COLLECTIONS, UniqueInserts } from '../store/index.js';

export type PairingState = 'pending' | 'approved' | 'declined' | 'completed';

/** One pairing attempt (a device authorization request) and what became of it. */
export interface PairingRecord {
  _id: string;
  clientId: string;
  scopes: string[];
  /** Keyed hashes only (docs/security-tests.md P9); the codes themselves exist only in the responses. */
  deviceCodeHash: string;
  userCodeHash: string;
  /** Thumbprint of the DPoP key the request was made with: the device grant must use the same key. */
  jkt: string;
  state: PairingState;
  createdAt: Date;
  expiresAt: Date;
  /** "Chrome 156 on Linux", from the requesting client's User-Agent. */
  device: string;
  /** The requesting address, masked to its network ("203.0.113.x"), and its blind index. */
  network: string;
  ipIndex: string;
  userId: string | null;
  decidedAt: Date | null;
  /**
   * The approver's tokenVersion and browser session at approval: "sign out everywhere" or the
   * end of that session before the device redeems its code cancels the approval too.
   */
  tokenVersion?: number;
  approverSessionId?: string | null;
  sessionId: string | null;
}

/**
 * A refresh token (the paired credential), by its keyed hash. Rotation inserts the successor
 * with `parent` set to the token it replaces; the unique index on `parent` makes that insert
 * the one atomic claim (FerretDB v1 does not make guarded updates atomic, unique inserts it
 * does): a token that already has a child cannot get another, so presenting an old one is
 * recognised as a replay by the refused insert (docs/security-tests.md P8), with no extra read.
 */
export interface RefreshTokenRecord {
  _id: string;
  parent?: string;
  pairingId: string;
  sessionId: string;
  userId: string;
  clientId: string;
  jkt: string;
  scopes: string[];
  /** The user's tokenVersion at pairing: a bump (revoke-all, disable) kills the chain. */
  tokenVersion: number;
  /** 1 for the token issued at pairing, +1 at every rotation. */
  secretVersion: number;
  createdAt: Date;
  /** The paired session's absolute end. */
  sessionExpiresAt: Date;
}

/** How many inserted refresh tokens each instance keeps for their next exchange (≈ 0.5 KiB each). */
const RECENT_REFRESH_TOKENS = 10_000;

/** Pairing requests, their one-time claims and refresh tokens; the only writer of these collections. */
export class PairingStore {
  private readonly pairings: Collection<PairingRecord>;
  private readonly claims: Collection<{ _id: string; at: Date }>;
  private readonly refreshTokens: Collection<RefreshTokenRecord>;
  /** Rotations from concurrent exchanges go to the store together (docs/benchmarks.md, "Group commit"). */
  private readonly refreshTokenInserts: UniqueInserts<RefreshTokenRecord>;
  /** Refresh tokens this instance inserted, not yet presented (see `refreshToken`), oldest first. */
  private readonly recentRefreshTokens = new Map<string, RefreshTokenRecord>();

  constructor(db: Db) {
    this.pairings = db.collection<PairingRecord>(COLLECTIONS.pairings);
    this.claims = db.collection(COLLECTIONS.pairingClaims);
    this.refreshTokens = db.collection<RefreshTokenRecord>(COLLECTIONS.refreshTokens);
    this.refreshTokenInserts = new UniqueInserts(this.refreshTokens);
  }

  /** Inserts a pairing; false when a code hash collides with an earlier pairing's (retry with new codes). */
  insert(record: PairingRecord): Promise<boolean> {
    return insertUnique(() => this.pairings.insertOne(record));
  }

  byUserCode(userCodeHash: string): Promise<PairingRecord | null> {
    return guardStore(() => this.pairings.findOne({ userCodeHash }));
  }

  byDeviceCode(deviceCodeHash: string): Promise<PairingRecord | null> {
    return guardStore(() => this.pairings.findOne({ deviceCodeHash }));
  }

  /**
   * Claims a one-time step of a pairing ("decide", "issue") by inserting a unique record:
   * exactly one caller ever gets true, however many race (docs/security-tests.md P4).
   */
  claim(pairingId: string, step: 'decide' | 'issue', at: Date): Promise<boolean> {
    return insertUnique(() => this.claims.insertOne({ _id: `${step}:${pairingId}`, at }));
  }

  /** Records what the claim decided, for polling and display. Only the claim winner calls it. */
  setState(
    pairingId: string,
    update: Partial<Pick<PairingRecord, 'state' | 'userId' | 'decidedAt' | 'sessionId' | 'tokenVersion' | 'approverSessionId'>>,
  ): Promise<unknown> {
    return guardStore(() => this.pairings.updateOne({ _id: pairingId }, { $set: update }));
  }

  /**
   * The refresh token with this hash: from the tokens this instance inserted and nobody has
   * presented since (the usual case: a client comes back to the instance that rotated its
   * token), else one point read by primary key. A record never changes after its insert, so the
   * copy is what the read would give; the ways one stops counting — its session revoked, its
   * account stopped or deleted, its expiry — are checked on every exchange against Redis and the
   * record's own dates, and a replay is still caught by the refused insert of a second child.
   * A copy is used once: a second presentation reads MongoDB.
   */
  refreshToken(hash: string): Promise<RefreshTokenRecord | null> {
    const recent = this.recentRefreshTokens.get(hash);
    if (recent) {
      this.recentRefreshTokens.delete(hash);
      return Promise.resolve(recent);
    }
    return guardStore(() => this.refreshTokens.findOne({ _id: hash }));
  }

  /**
   * The sweeper's part: pairing requests (and their one-time claims) that expired before `before`
   * — they live ten minutes, kept a while for support — and refresh tokens whose session ended
   * before it (rotated ones are kept while their session lives: they are how a replay is
   * recognised). Returns how many pairings went.
   */
  async sweep(before: Date): Promise<number> {
    const [pairings] = await Promise.all([
      guardStore(() => this.pairings.deleteMany({ expiresAt: { $lt: before } })),
      guardStore(() => this.claims.deleteMany({ at: { $lt: before } })),
      guardStore(() => this.refreshTokens.deleteMany({ sessionExpiresAt: { $lt: before } })),
    ]);
    return pairings.deletedCount;
  }

  /** Account deletion: the user's refresh tokens and pairing requests go. */
  async deleteForUser(userId: string): Promise<void> {
    for (const [hash, record] of this.recentRefreshTokens) if (record.userId === userId) this.recentRefreshTokens.delete(hash);
    await guardStore(() => this.refreshTokens.deleteMany({ userId }));
    await guardStore(() => this.pairings.deleteMany({ userId }));
  }

  /** Inserts a refresh token; false when its parent already has a successor (rotation lost the race). */
  async insertRefreshToken(record: RefreshTokenRecord): Promise<boolean> {
    const inserted = await this.refreshTokenInserts.insert(record);
    if (inserted) {
      if (this.recentRefreshTokens.size >= RECENT_REFRESH_TOKENS)
        this.recentRefreshTokens.delete(this.recentRefreshTokens.keys().next().value as string);
      this.recentRefreshTokens.set(record._id, record);
    }
    return inserted;
  }
}
