import type { Db } from 'mongodb';

/** Collection names in one place. */
export const COLLECTIONS = {
  users: 'users',
  identities: 'identities',
  sessions: 'sessions',
  audit: 'audit',
  system: 'system',
  keys: 'keys',
  revokedTokens: 'revoked_tokens',
  bans: 'bans',
  pairings: 'pairings',
  pairingClaims: 'pairing_claims',
  refreshTokens: 'refresh_tokens',
  /** Password hashes, sealed TOTP secrets and hashed recovery codes (local-auth only). */
  credentials: 'credentials',
  /** Invitations and their single-use claims (invitations only). */
  invitations: 'invitations',
  invitationClaims: 'invitation_claims',
} as const;

/**
 * Creates the indexes the code relies on. Unique indexes only on scalar fields (FerretDB v1
 * does not enforce uniqueness over arrays); expiry is enforced in queries, not by TTL indexes.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  await Promise.all([
    db.collection(COLLECTIONS.users).createIndex({ email: 1 }, { unique: true, sparse: true, name: 'email_unique' }),
    db.collection(COLLECTIONS.identities).createIndex({ iss: 1, sub: 1 }, { unique: true, name: 'iss_sub_unique' }),
    db.collection(COLLECTIONS.identities).createIndex({ userId: 1 }, { name: 'user' }),
    db.collection(COLLECTIONS.sessions).createIndex({ userId: 1, revokedAt: 1 }, { name: 'user_revoked' }),
    db.collection(COLLECTIONS.sessions).createIndex({ upstreamSid: 1 }, { name: 'upstream_sid', sparse: true }),
    db.collection(COLLECTIONS.audit).createIndex({ target: 1, time: -1 }, { name: 'target_time' }),
    db.collection(COLLECTIONS.audit).createIndex({ actor: 1, time: -1 }, { name: 'actor_time' }),
    db.collection(COLLECTIONS.audit).createIndex({ action: 1, time: -1 }, { name: 'action_time' }),
    // The hash chain: one entry per seq (set only when sealed), and the sealer's (time, _id) order.
    db.collection(COLLECTIONS.audit).createIndex({ seq: 1 }, { unique: true, sparse: true, name: 'seq_unique' }),
    db.collection(COLLECTIONS.audit).createIndex({ time: 1, _id: 1 }, { name: 'time_id' }),
    db.collection(COLLECTIONS.pairings).createIndex({ userCodeHash: 1 }, { unique: true, name: 'user_code_unique' }),
    db.collection(COLLECTIONS.pairings).createIndex({ deviceCodeHash: 1 }, { unique: true, name: 'device_code_unique' }),
    // Rotation claims its parent: a second child of one refresh token cannot be inserted.
    db.collection(COLLECTIONS.refreshTokens).createIndex({ parent: 1 }, { unique: true, sparse: true, name: 'parent_unique' }),
    db.collection(COLLECTIONS.refreshTokens).createIndex({ sessionId: 1 }, { name: 'session' }),
    db.collection(COLLECTIONS.invitations).createIndex({ email: 1, status: 1 }, { name: 'email_status' }),
    db.collection(COLLECTIONS.invitations).createIndex({ createdAt: -1 }, { name: 'created' }),
  ]);
  // A TTL index only where the server supports it (FerretDB v1 does not: then a plain index
  // for the sweeper). Expiry checks on every read do the job either way.
  const revoked = db.collection(COLLECTIONS.revokedTokens);
  await revoked
    .createIndex({ expiresAt: 1 }, { name: 'expires', expireAfterSeconds: 0 })
    .catch(() => revoked.createIndex({ expiresAt: 1 }, { name: 'expires' }));
}
