import type { AdminService } from '../admin/index.js';
import type { AuditDetails, AuditLog } from '../audit/index.js';
import type { TransmitterConfig } from '../config/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { AppError } from '../errors/index.js';
import type { LogoutTokenReplayStore } from '../oidc/index.js';
import type { SessionService } from '../sessions/index.js';
import type { User, UserStore } from '../users/index.js';
import { eventShortName, SIGNAL_ACTIONS, type SignalAction } from './events.js';
import { SetRejected, type VerifiedSet, verifySecurityEventToken } from './set-token.js';
import { readSubject, type Subject } from './subject.js';
import type { TransmitterRegistry } from './transmitters.js';

/** What a received SET led to, as the audit log records it in `details.code`. */
type Effect =
  | 'sessions_ended'
  | 'account_disabled'
  | 'already_disabled'
  | 'revoked_all'
  | 'event_unknown'
  | 'subject_unknown'
  | 'subject_ignored'
  | 'subject_not_trusted';

/**
 * OpenID Shared Signals, receiving side (push delivery, RFC 8935): a configured transmitter
 * tells us about one of its accounts, and we act on the Gatehouse account behind it. Every SET
 * is verified (RFC 8417), claimed once by its `jti` (fail closed: Redis down → 503, the
 * transmitter retries), then acted on through the same services an admin uses, so the change is
 * mirrored to Redis and refused on the very next request on every instance. Whatever the
 * outcome, one `security_event.received` audit entry (never the token).
 */
export class SignalReceiver {
  constructor(
    private readonly deps: Deps,
    private readonly transmitters: TransmitterRegistry,
    private readonly users: UserStore,
    private readonly sessions: SessionService,
    private readonly admin: AdminService,
    private readonly audit: AuditLog,
    private readonly replay: LogoutTokenReplayStore,
  ) {}

  /** The transmitter of a `/ssf/events/<id>` path; 404 when none is configured under that id. */
  transmitter(id: string): TransmitterConfig {
    const transmitter = this.transmitters.find(id);
    if (!transmitter) throw new AppError('NOT_FOUND');
    return transmitter;
  }

  /** Verifies and acts on one SET. Throws SetRejected (400) or an AppError (503 when we can't decide). */
  async receive(transmitter: TransmitterConfig, token: string, meta: RequestMeta): Promise<void> {
    const refuse = async (reason: string, error: Error): Promise<never> => {
      const details: AuditDetails = { provider: transmitter.id, reason, ...(error instanceof SetRejected ? { code: error.err } : {}) };
      await this.audit.recordBestEffort({ action: 'security_event.received', outcome: 'failure', actor: 'system', details }, meta);
      throw error;
    };

    let set: VerifiedSet;
    let subject: Subject;
    try {
      set = await verifySecurityEventToken(token, {
        issuer: transmitter.issuer,
        audience: transmitter.audience,
        keys: this.transmitters.signingKeys(transmitter),
        now: this.deps.clock.now(),
      });
      subject = readSubject(set.payload, set.event);
    } catch (error) {
      if (error instanceof SetRejected) return refuse(error.reason, error);
      // The transmitter's JWKS can't be read: 503, so that the transmitter retries later.
      return refuse('transmitter_unavailable', new AppError('DEPENDENCY_UNAVAILABLE', { cause: error }));
    }

    let fresh: boolean;
    try {
      fresh = await this.replay.claim(`ssf:${transmitter.id}`, set.jti);
    } catch (error) {
      return refuse(
        'replay_check_unavailable',
        error instanceof AppError ? error : new AppError('DEPENDENCY_UNAVAILABLE', { cause: error }),
      );
    }
    if (!fresh) return refuse('replayed', new SetRejected('invalid_request', 'replayed'));

    try {
      const { user, effect, count } = await this.act(transmitter, set.eventType, subject, meta);
      await this.audit.record(
        {
          action: 'security_event.received',
          outcome: 'success',
          actor: 'system',
          ...(user ? { target: `user:${user._id}` } : {}),
          details: { provider: transmitter.id, reason: eventShortName(set.eventType), code: effect, ...(count === null ? {} : { count }) },
        },
        meta,
      );
    } catch (error) {
      // Nothing (or not everything) was done: let the transmitter's retry through.
      await this.replay.release(`ssf:${transmitter.id}`, set.jti).catch(() => undefined);
      throw error;
    }
  }

  /** A request without a readable SET (wrong content type, empty or oversized body). */
  async recordUnreadable(transmitter: TransmitterConfig, meta: RequestMeta): Promise<void> {
    await this.audit.recordBestEffort(
      {
        action: 'security_event.received',
        outcome: 'failure',
        actor: 'system',
        details: { provider: transmitter.id, reason: 'request_invalid', code: 'invalid_request' },
      },
      meta,
    );
  }

  private async act(
    transmitter: TransmitterConfig,
    eventType: string,
    subject: Subject,
    meta: RequestMeta,
  ): Promise<{ user: User | null; effect: Effect; count: number | null }> {
    const action: SignalAction | undefined = SIGNAL_ACTIONS[eventType];
    if (!action) return { user: null, effect: 'event_unknown', count: null };
    const found = await this.resolve(transmitter, subject);
    if (!('user' in found)) return { user: null, effect: found.effect, count: null };
    const { user } = found;
    switch (action) {
      case 'end_sessions': {
        const matches = await this.sessions.findUnrevoked({ userId: user._id }, ['browser']);
        const ids = matches.map((session) => session._id);
        return { user, effect: 'sessions_ended', count: await this.sessions.revokeMany(user._id, ids, 'security_event') };
      }
      case 'revoke_all':
        return { user, effect: 'revoked_all', count: (await this.sessions.stopAccount(user._id, 'security_event')).revoked };
      case 'disable':
        return { user, effect: await this.disable(user, meta), count: null };
    }
  }

  /** Disables the account; one that is already disabled or banned stays as it is. */
  private async disable(user: User, meta: RequestMeta): Promise<Effect> {
    if (user.status !== 'active') return 'already_disabled';
    try {
      await this.admin.changeStatus({ kind: 'system' }, user._id, 'disable', meta);
      return 'account_disabled';
    } catch (error) {
      // Changed concurrently (an admin, or a second event): only a stopped account is fine.
      if (!(error instanceof AppError && error.code === 'USER_STATUS_CONFLICT')) throw error;
      const now = await this.users.findById(user._id);
      if (now && now.status !== 'active') return 'already_disabled';
      throw error;
    }
  }

  /**
   * The Gatehouse account a subject names. `iss_sub` only for the issuers this transmitter
   * speaks for (so one transmitter can't act on another provider's people), `email` only when
   * the transmitter is trusted for email; anything else resolves to nobody, without saying so.
   */
  private async resolve(transmitter: TransmitterConfig, subject: Subject): Promise<{ user: User } | { effect: Effect }> {
    let userId: string | null = null;
    if (subject.format === 'iss_sub') {
      if (!transmitter.subjectIssuers.includes(subject.iss)) return { effect: 'subject_not_trusted' };
      userId = (await this.users.findIdentity(subject.iss, subject.sub))?.userId ?? null;
    } else if (subject.format === 'email') {
      if (!transmitter.trustEmail) return { effect: 'subject_not_trusted' };
      userId = (await this.users.findByEmail(subject.email))?._id ?? null;
    } else {
      return { effect: 'subject_ignored' };
    }
    const user = userId ? await this.users.findById(userId) : null;
    return user ? { user } : { effect: 'subject_unknown' };
  }
}
