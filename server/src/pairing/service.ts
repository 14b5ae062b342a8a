import { formatUserCode, normalizeUserCode } from '@gatehouse/shared';
import type { AuditLog } from '../audit/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { randomId } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import { describeDevice } from '../http/index.js';
import type { SessionService } from '../sessions/index.js';
import { redisHealth } from '../store/index.js';
import type { OnceKey, RevocationState, TokenIssuer } from '../tokens/index.js';
import type { User, UserStore } from '../users/index.js';
import type { OAuthClient, OAuthClients } from './clients.js';
import { type CodeHasher, newSecret, newUserCode } from './codes.js';
import type { PairingRecord, PairingStore, RefreshTokenRecord } from './store.js';

/** A paired session ends a year after pairing, and after 30 days without a single refresh. */
const PAIRED_SESSION_LIFETIME_MS = 365 * 86_400_000;
const PAIRED_IDLE_MS = 30 * 86_400_000;
/** How often an exchange may write the paired session's lastSeen (docs/benchmarks.md: once a minute). */
const LAST_SEEN_EVERY_MS = 60_000;

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'DPoP';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

/** What the pair page shows about a pending request. */
export interface PairingView {
  typedCode: string;
  client: OAuthClient;
  record: PairingRecord;
  sameNetwork: boolean;
}

/**
 * Pairing as the OAuth 2.0 device authorization grant (RFC 8628) with DPoP-bound tokens
 * (RFC 9449), and the refresh_token grant that keeps a paired client working. Every one-time
 * step (deciding a request, redeeming a device code, rotating a refresh token) is claimed with
 * a unique insert, so exactly one caller wins however many race.
 */
export class PairingService {
  constructor(
    private readonly deps: Deps,
    readonly clients: OAuthClients,
    private readonly store: PairingStore,
    private readonly hasher: CodeHasher,
    private readonly sessions: SessionService,
    private readonly users: UserStore,
    private readonly issuer: TokenIssuer,
    private readonly revocation: RevocationState,
    private readonly audit: AuditLog,
  ) {}

  /** Account deletion: the user's refresh tokens and pairing requests go. */
  deleteUserRecords(userId: string): Promise<void> {
    return this.store.deleteForUser(userId);
  }

  /** `POST /oauth/device_authorization`: a new pairing request bound to the proof's key. */
  async start(input: { clientId: string; scope: string | undefined; jkt: string }, meta: RequestMeta): Promise<DeviceAuthorization> {
    const { config, clock, ipCipher } = this.deps;
    const client = this.clients.get(input.clientId);
    const scopes = this.clients.grant(client, input.scope);
    const now = clock.now();
    for (let attempt = 0; attempt < 3; attempt++) {
      const userCode = newUserCode();
      const deviceCode = newSecret();
      const record: PairingRecord = {
        _id: randomId(),
        clientId: client.id,
        scopes,
        deviceCodeHash: this.hasher.hash('device', deviceCode),
        userCodeHash: this.hasher.hash('user', userCode),
        jkt: input.jkt,
        state: 'pending',
        createdAt: now,
        expiresAt: new Date(now.getTime() + config.DEVICE_CODE_TTL_SECONDS * 1000),
        device: describeDevice(meta.userAgent),
        network: maskAddress(meta.ip),
        ipIndex: ipCipher.blindIndex(meta.ip),
        userId: null,
        decidedAt: null,
        sessionId: null,
      };
      // A user code is 40 bits: a collision with an earlier request is possible, if unlikely.
      if (!(await this.store.insert(record))) continue;
      await this.audit.record(
        {
          action: 'pairing.started',
          outcome: 'success',
          actor: `client:${client.id}`,
          details: { pairingId: record._id, clientId: client.id },
        },
        meta,
      );
      const display = formatUserCode(userCode);
      const verificationUri = `${config.publicOrigin}/pair`;
      return {
        device_code: deviceCode,
        user_code: display,
        verification_uri: verificationUri,
        verification_uri_complete: `${verificationUri}?code=${display}`,
        expires_in: config.DEVICE_CODE_TTL_SECONDS,
        interval: config.DEVICE_POLL_INTERVAL_SECONDS,
      };
    }
    throw new AppError('INTERNAL_ERROR', { cause: new Error('user code collisions') });
  }

  /**
   * The pending, unexpired request behind a typed code, or null. Whatever is wrong with the
   * code (malformed, unknown, used, expired, decided) the caller gets the same null, and the
   * same work is done either way: one keyed hash and one indexed read (docs/security-tests.md P10).
   */
  async findPending(typed: string, viewerIp: string): Promise<PairingView | null> {
    const code = normalizeUserCode(typed);
    const record = await this.store.byUserCode(this.hasher.hash('user', code ?? `invalid:${typed}`));
    if (!code || !record || record.state !== 'pending' || record.expiresAt <= this.deps.clock.now()) return null;
    return {
      typedCode: typed,
      client: this.clients.get(record.clientId),
      record,
      sameNetwork: record.ipIndex === this.deps.ipCipher.blindIndex(viewerIp),
    };
  }

  /** Approves or declines a pending request for the signed-in user; null when the code is not usable. */
  async decide(
    typed: string,
    user: User,
    decision: 'approve' | 'decline',
    meta: RequestMeta,
    approverSessionId: string | null = null,
  ): Promise<PairingRecord | null> {
    const view = await this.findPending(typed, meta.ip);
    if (!view) return null;
    const now = this.deps.clock.now();
    if (!(await this.store.claim(view.record._id, 'decide', now))) return null;
    const state = decision === 'approve' ? 'approved' : 'declined';
    await this.store.setState(view.record._id, {
      state,
      userId: user._id,
      decidedAt: now,
      tokenVersion: user.tokenVersion,
      approverSessionId,
    });
    await this.audit.record(
      {
        action: decision === 'approve' ? 'pairing.confirmed' : 'pairing.declined',
        outcome: 'success',
        actor: `user:${user._id}`,
        target: `user:${user._id}`,
        details: { pairingId: view.record._id, clientId: view.record.clientId },
        ipOwner: { userId: user._id, keySalt: user.keySalt },
      },
      meta,
    );
    return { ...view.record, state, userId: user._id, decidedAt: now };
  }

  /** Records a wrong code on the pair page (the limiter counts it; the audit keeps it). */
  async recordFailedCode(user: User, meta: RequestMeta, reason: string): Promise<void> {
    await this.audit.recordBestEffort(
      {
        action: 'pairing.confirmed',
        outcome: 'failure',
        actor: `user:${user._id}`,
        target: `user:${user._id}`,
        details: { reason },
        ipOwner: { userId: user._id, keySalt: user.keySalt },
      },
      meta,
    );
  }

  /** The device_code grant: RFC 8628 §3.5 answers until approved, then exactly one issuance. */
  async redeemDeviceCode(input: { deviceCode: string; clientId: string; jkt: string }, meta: RequestMeta): Promise<TokenResponse> {
    const client = this.clients.get(input.clientId);
    const record = await this.store.byDeviceCode(this.hasher.hash('device', input.deviceCode));
    if (!record || record.clientId !== client.id) throw await this.exchangeFailed(meta, 'unknown_device_code', client.id);
    // The grant must come from the key that asked for the code: a stolen device code is useless.
    if (record.jkt !== input.jkt) throw await this.exchangeFailed(meta, 'wrong_key', client.id, record);
    if (record.state === 'completed') throw await this.exchangeFailed(meta, 'device_code_used', client.id, record);
    const now = this.deps.clock.now();
    if (record.expiresAt <= now) throw new AppError('CODE_EXPIRED');
    await this.enforceInterval(record._id);
    if (record.state === 'pending') throw new AppError('AUTHORIZATION_PENDING');
    if (record.state === 'declined') throw new AppError('ACCESS_DENIED');
    if (!(await this.store.claim(record._id, 'issue', now))) throw await this.exchangeFailed(meta, 'device_code_used', client.id, record);

    const user = record.userId ? await this.users.findById(record.userId) : null;
    if (user?.status !== 'active') throw await this.exchangeFailed(meta, 'account_inactive', client.id, record);
    await this.assertApprovalStands(record, user, meta, client.id);
    const session = await this.sessions.createPairedSession(user, meta, {
      pairingId: record._id,
      clientId: client.id,
      jkt: input.jkt,
      scopes: record.scopes,
      device: record.device,
      lifetimeMs: PAIRED_SESSION_LIFETIME_MS,
    });
    const refreshToken = newSecret();
    await this.store.insertRefreshToken({
      _id: this.hasher.hash('refresh', refreshToken),
      pairingId: record._id,
      sessionId: session._id,
      userId: user._id,
      clientId: client.id,
      jkt: input.jkt,
      scopes: record.scopes,
      tokenVersion: user.tokenVersion,
      secretVersion: 1,
      createdAt: now,
      sessionExpiresAt: session.absoluteExpiresAt,
    });
    await this.store.setState(record._id, { state: 'completed', sessionId: session._id });
    await this.audit.record(
      {
        action: 'pairing.completed',
        outcome: 'success',
        actor: `user:${user._id}`,
        target: `session:${session._id}`,
        details: { pairingId: record._id, clientId: client.id },
        ipOwner: { userId: user._id, keySalt: user.keySalt },
      },
      meta,
    );
    await this.replaceEarlierPairings(user._id, client.id, input.jkt, session._id);
    return this.tokenResponse(user._id, user.tokenVersion, session._id, client.id, input.jkt, record.scopes, refreshToken);
  }

  /**
   * The refresh_token grant: the token's hash, its key, its session and its user are checked,
   * then the token is rotated. Presenting a token that was already rotated is a replay: the
   * whole pairing is revoked (docs/security-tests.md P8).
   */
  async refresh(input: { refreshToken: string; clientId: string; jkt: string; once?: OnceKey }, meta: RequestMeta): Promise<TokenResponse> {
    const client = this.clients.get(input.clientId);
    const hash = this.hasher.hash('refresh', input.refreshToken);
    const token = await this.store.refreshToken(hash);
    if (!token || token.clientId !== client.id) throw await this.exchangeFailed(meta, 'unknown_refresh_token', client.id);
    if (token.jkt !== input.jkt) throw await this.exchangeFailed(meta, 'wrong_key', client.id, token);
    const now = this.deps.clock.now();
    if (token.sessionExpiresAt <= now || now.getTime() - token.createdAt.getTime() > PAIRED_IDLE_MS)
      throw await this.exchangeFailed(meta, 'pairing_expired', client.id, token);
    try {
      // Revoked session, revoke-all, disable and ban all show up here: one Redis round trip.
      await this.revocation.check({
        userId: token.userId,
        jti: `refresh:${token.sessionId}`,
        tokenVersion: token.tokenVersion,
        sid: token.sessionId,
        once: input.once,
      });
    } catch (error) {
      if (error instanceof AppError && error.status === 401)
        throw await this.exchangeFailed(meta, error.code.toLowerCase(), client.id, token);
      throw error;
    }
    const next = newSecret();
    const rotated = await this.store.insertRefreshToken({
      ...token,
      _id: this.hasher.hash('refresh', next),
      parent: hash,
      secretVersion: (token.secretVersion ?? 1) + 1,
      createdAt: now,
    });
    if (!rotated) {
      // This token already has a successor: it was rotated before (a moment or a month ago), so
      // this is a second use of one credential — a replay, or a race between two holders.
      await this.revokePairing(token, 'refresh_token_replayed');
      throw await this.exchangeFailed(meta, 'refresh_token_replayed', client.id, token);
    }
    // lastSeen at most once a minute: the presented token's creation is when the client was last seen.
    if (now.getTime() - token.createdAt.getTime() >= LAST_SEEN_EVERY_MS)
      await this.sessions.touch(token.sessionId, now, PAIRED_SESSION_LIFETIME_MS, LAST_SEEN_EVERY_MS);
    return this.tokenResponse(token.userId, token.tokenVersion, token.sessionId, client.id, token.jkt, token.scopes, next);
  }

  /**
   * An approval is only as good as what it was given with: signing out everywhere (a bumped
   * tokenVersion) or ending the approving browser session before the device redeems the code
   * cancels it, so a person who approved by mistake can take it back.
   */
  private async assertApprovalStands(record: PairingRecord, user: User, meta: RequestMeta, clientId: string): Promise<void> {
    const tokenVersion = record.tokenVersion ?? user.tokenVersion;
    try {
      await this.revocation.check({
        userId: user._id,
        jti: `approval:${record._id}`,
        tokenVersion,
        sid: record.approverSessionId ?? undefined,
      });
    } catch (error) {
      if (error instanceof AppError && error.status === 401) throw await this.exchangeFailed(meta, 'approval_withdrawn', clientId, record);
      throw error;
    }
  }

  /** RFC 7009 for a refresh token: ends the pairing. Unknown tokens are ignored (200 either way). */
  async revokeRefreshToken(refreshToken: string, clientId: string | undefined): Promise<boolean> {
    const token = await this.store.refreshToken(this.hasher.hash('refresh', refreshToken));
    if (!token || (clientId !== undefined && token.clientId !== clientId)) return false;
    await this.revokePairing(token, 'client_disconnected');
    return true;
  }

  private async revokePairing(token: RefreshTokenRecord, reason: string): Promise<void> {
    const revoked = await this.sessions.revoke(token.sessionId, token.userId, reason);
    if (revoked)
      await this.audit.recordBestEffort({
        action: 'pairing.revoked',
        outcome: 'success',
        actor: reason === 'client_disconnected' ? `client:${token.clientId}` : 'system',
        target: `session:${token.sessionId}`,
        details: { pairingId: token.pairingId, clientId: token.clientId, reason },
      });
  }

  /** Re-pairing the same client key replaces its earlier pairings of this account. */
  private async replaceEarlierPairings(userId: string, clientId: string, jkt: string, keepSessionId: string): Promise<void> {
    try {
      const earlier = await this.sessions.findUnrevoked({ userId, pairedWith: { clientId, jkt } }, ['extension']);
      const ids = earlier.map((session) => session._id).filter((id) => id !== keepSessionId);
      await this.sessions.revokeMany(userId, ids, 'replaced_by_new_pairing');
    } catch (error) {
      // The new pairing is issued already; the old one stays listed and revocable by hand.
      this.deps.log.warn({ err: error }, 'pairing.replace_failed');
    }
  }

  /** RFC 8628 §3.5: a client polling faster than the interval gets `slow_down`. Fails closed. */
  private async enforceInterval(pairingId: string): Promise<void> {
    const { redis, config } = this.deps;
    // A little slack for network jitter; an honest client waits the full interval.
    const windowMs = Math.max(500, config.DEVICE_POLL_INTERVAL_SECONDS * 1000 - 500);
    const first = await redisHealth(redis).failClosed(() => redis.set(`poll:${pairingId}`, '1', 'PX', windowMs, 'NX'));
    if (first !== 'OK') throw new AppError('SLOW_DOWN');
  }

  private async tokenResponse(
    userId: string,
    tokenVersion: number,
    sessionId: string,
    clientId: string,
    jkt: string,
    scopes: string[],
    refreshToken: string,
  ): Promise<TokenResponse> {
    const ttlSeconds = this.deps.config.ACCESS_TOKEN_TTL_SECONDS;
    this.deps.metrics?.tokenIssued('refresh');
    const { token } = await this.issuer.mint('access', {
      sub: userId,
      tokenVersion,
      sid: sessionId,
      scope: scopes,
      clientId,
      jkt,
      ttlSeconds,
    });
    return { access_token: token, token_type: 'DPoP', expires_in: ttlSeconds, refresh_token: refreshToken, scope: scopes.join(' ') };
  }

  private async exchangeFailed(
    meta: RequestMeta,
    reason: string,
    clientId: string,
    about?: { userId?: string | null; pairingId?: string; _id?: string },
  ): Promise<AppError> {
    const userId = about?.userId ?? null;
    await this.audit.recordBestEffort(
      {
        action: 'token.exchange_failed',
        outcome: 'refused',
        actor: `client:${clientId}`,
        ...(userId ? { target: `user:${userId}` } : {}),
        details: { reason, clientId },
      },
      meta,
    );
    return new AppError('GRANT_INVALID');
  }
}

/** "203.0.113.x" / "2001:db8:1:2::/64": enough to say roughly where, not who. */
function maskAddress(ip: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return `${ip.split('.').slice(0, 3).join('.')}.x`;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return maskAddress(mapped[1]);
  const groups = ip.split(':').slice(0, 4).join(':');
  return `${groups}::/64`;
}
