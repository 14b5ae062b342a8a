import type { SessionKind, SessionView } from '@gatehouse/shared';
import type { Deps, RequestMeta } from '../context.js';
import { randomId } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import { type User, UserStore } from '../users/index.js';
import { describeDevice } from './device.js';
import { type SessionRecord, SessionStore } from './store.js';
import { type SessionClaims, SessionTokens } from './token.js';

/** lastSeen is written at most this often per session (DESIGN.md performance budget). */
const LAST_SEEN_THROTTLE_MS = 60_000;

export interface AuthenticatedSession {
  user: User;
  session: SessionRecord;
  claims: SessionClaims;
}

/** Creating, authenticating, listing and revoking sessions. */
export class SessionService {
  readonly store: SessionStore;
  readonly tokens: SessionTokens;
  private readonly users: UserStore;

  constructor(private readonly deps: Deps) {
    this.store = new SessionStore(deps.db);
    this.users = new UserStore(deps.db);
    this.tokens = new SessionTokens(deps.config.masterKey, deps.config.publicOrigin);
  }

  /** A fresh session record and its token; a new random sid every time (no fixation). */
  async create(
    user: User,
    meta: RequestMeta,
    origin: { kind: SessionKind; providerId: string | null; upstreamSid: string | null },
  ): Promise<{ record: SessionRecord; token: string }> {
    const { config, clock, ipCipher } = this.deps;
    const now = clock.now();
    const record: SessionRecord = {
      _id: randomId(24),
      userId: user._id,
      kind: origin.kind,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: new Date(now.getTime() + config.SESSION_IDLE_MINUTES * 60_000),
      absoluteExpiresAt: new Date(now.getTime() + config.SESSION_ABSOLUTE_HOURS * 3_600_000),
      revokedAt: null,
      revokeReason: null,
      device: describeDevice(meta.userAgent),
      ip: ipCipher.encrypt(meta.ip, user._id, user.keySalt),
      ipIndex: ipCipher.blindIndex(meta.ip),
      providerId: origin.providerId,
      upstreamSid: origin.upstreamSid,
    };
    await this.store.insert(record);
    const token = await this.tokens.mint({
      userId: user._id,
      sessionId: record._id,
      tokenVersion: user.tokenVersion,
      expiresAt: record.absoluteExpiresAt,
      now,
    });
    return { record, token };
  }

  /**
   * Checks a session token and everything behind it: the record exists, belongs to the token's
   * user, is neither revoked nor expired; the user is active and the token's `tv` is current.
   */
  async authenticate(token: string): Promise<AuthenticatedSession> {
    const now = this.deps.clock.now();
    const claims = await this.tokens.verify(token, now);
    const [session, user] = await Promise.all([this.store.findById(claims.sid), this.users.findById(claims.sub)]);
    if (!session || !user || session.userId !== user._id) throw new AppError('TOKEN_INVALID');
    if (session.revokedAt) throw new AppError('TOKEN_REVOKED');
    if (session.idleExpiresAt <= now || session.absoluteExpiresAt <= now) throw new AppError('TOKEN_EXPIRED');
    if (user.status === 'disabled') throw new AppError('ACCOUNT_DISABLED');
    if (user.status === 'banned') throw new AppError('ACCOUNT_BANNED');
    if (claims.tv !== user.tokenVersion) throw new AppError('TOKEN_REVOKED');
    await this.store.touch(session._id, now, this.deps.config.SESSION_IDLE_MINUTES * 60_000, LAST_SEEN_THROTTLE_MS);
    return { user, session, claims };
  }

  /** The user's active sessions as the user may see them, IPs decrypted with their key. */
  async listForUser(user: User, currentSessionId: string | null): Promise<SessionView[]> {
    const records = await this.store.listActive(user._id, this.deps.clock.now());
    return records.map((record) => ({
      id: record._id,
      kind: record.kind,
      device: record.device,
      createdAt: record.createdAt.toISOString(),
      lastSeenAt: record.lastSeenAt.toISOString(),
      ip: record.ip ? this.deps.ipCipher.decrypt(record.ip, user._id, user.keySalt) : null,
      current: record._id === currentSessionId,
    }));
  }

  revoke(sessionId: string, userId: string, reason: string): Promise<boolean> {
    return this.store.revoke(sessionId, userId, this.deps.clock.now(), reason);
  }
}
