import { canonicalizeEmail, type Role } from '@gatehouse/shared';
import type { Collection } from 'mongodb';
import QRCode from 'qrcode';
import type { AuditLog } from '../audit/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { randomId, safeEqual, sha256 } from '../crypto/index.js';
import { AppError, guardStore, insertUnique } from '../errors/index.js';
import type { SessionService, SessionTokenResult } from '../sessions/index.js';
import { COLLECTIONS } from '../store/index.js';
import { newAccount, type User, type UserStore } from '../users/index.js';
import type { LoginBackoff } from './limits.js';
import { checkPassword, dummyHash, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { matchingStep, newRecoveryCodes, newTotpSecret, normaliseRecoveryCode, type SecretSealer, totpFor } from './totp.js';

/** A local account's secrets, kept apart from the user document so no user read returns them. */
export interface Credential {
  _id: string; // the user id
  passwordHash?: string;
  /** The TOTP secret sealed by SecretSealer, once enrolment is confirmed. */
  totpSecret?: string;
  /** A secret offered for enrolment, not yet confirmed by a code. */
  pendingTotpSecret?: string;
  /** SHA-256 of each unused recovery code (they are random, 50 bits: no slow hash needed). */
  recoveryCodes?: string[];
  updatedAt: Date;
}

export const PENDING_2FA_SECONDS = 300;
const PENDING_2FA_ATTEMPTS = 5;

export type PasswordSignIn =
  | { kind: 'session'; user: User; session: SessionTokenResult }
  | { kind: 'totp'; pendingToken: string }
  | { kind: 'enrol'; pendingToken: string };

interface Pending {
  userId: string;
  binding: string;
  /** Whether this step enrols 2FA (owner/admin without it) rather than checks it. */
  enrol: boolean;
  attempts: number;
}

/**
 * Local passwords and TOTP two-factor (docs/local-accounts.md). Sign-in is two steps when the
 * account has (or must get) 2FA: the password opens a short-lived, single-use "pending 2FA"
 * entry in Redis bound to the browser, and only the code turns it into a session.
 */
export class LocalAuthService {
  readonly credentials: Collection<Credential>;
  private readonly claims: Collection<{ _id: string; at: Date }>;

  constructor(
    private readonly deps: Deps,
    private readonly users: UserStore,
    private readonly sessions: SessionService,
    private readonly audit: AuditLog,
    private readonly backoff: LoginBackoff,
    private readonly sealer: SecretSealer,
  ) {
    this.credentials = deps.db.collection<Credential>(COLLECTIONS.credentials);
    this.claims = deps.db.collection(COLLECTIONS.system);
  }

  /** Whether `at` is less than `maxAgeMs` ago (by the injectable clock). */
  isRecent(at: Date, maxAgeMs: number): boolean {
    const age = this.deps.clock.now().getTime() - at.getTime();
    return age >= 0 && age <= maxAgeMs;
  }

  /** Whether LOCAL_LOGIN lets this account use a password at all. */
  allowed(user: Pick<User, 'roles'>): boolean {
    const mode = this.deps.config.LOCAL_LOGIN;
    return mode === 'all' || (mode === 'owner' && user.roles.includes('owner'));
  }

  private limits() {
    return { min: this.deps.config.PASSWORD_MIN_LENGTH, max: this.deps.config.PASSWORD_MAX_LENGTH };
  }

  private needsTotp(roles: Role[]): boolean {
    return this.deps.config.TOTP_REQUIRED_FOR_ADMINS && (roles.includes('owner') || roles.includes('admin'));
  }

  /** Sets a password without asking for the old one: the CLI, and "set a password" with a fresh session. */
  async setPassword(user: User, password: string, meta: RequestMeta | undefined, actor: string): Promise<void> {
    if (!this.allowed(user)) throw new AppError('LOCAL_LOGIN_DISABLED');
    this.assertAcceptable(password);
    const existing = await guardStore(() => this.credentials.findOne({ _id: user._id }));
    const passwordHash = await hashPassword(password);
    await guardStore(() =>
      this.credentials.updateOne({ _id: user._id }, { $set: { passwordHash, updatedAt: this.deps.clock.now() } }, { upsert: true }),
    );
    await this.audit.record(
      {
        action: 'password.changed',
        outcome: 'success',
        actor,
        target: `user:${user._id}`,
        details: { reason: existing?.passwordHash ? 'replaced' : 'set' },
        ipOwner: { userId: user._id, keySalt: user.keySalt },
      },
      meta,
    );
  }

  assertAcceptable(password: string): void {
    const problem = checkPassword(password, this.limits());
    if (problem) throw new AppError('PASSWORD_REJECTED', { detail: `${ERROR_TEXT[problem]}` });
  }

  /** Step one: email and password. Unknown email, no password and wrong password look alike (A1). */
  async signIn(email: string, password: string, binding: string, meta: RequestMeta): Promise<PasswordSignIn> {
    const canonical = canonicalizeEmail(email) ?? email.toLowerCase();
    await this.backoff.assertAllowed(canonical, meta.ip);
    const tooLong = [...password].length > this.deps.config.PASSWORD_MAX_LENGTH;
    const user = await this.users.findByEmail(canonical);
    const credential = user ? await guardStore(() => this.credentials.findOne({ _id: user._id })) : null;
    const usable = user && credential?.passwordHash && this.allowed(user) && !tooLong ? credential.passwordHash : null;
    // Always one Argon2 verification, against a dummy hash when there is nothing to check.
    const ok = await verifyPassword(usable ?? (await dummyHash()), tooLong ? '' : password);
    if (!user || !usable || !ok) {
      await this.backoff.recordFailure(canonical, meta.ip);
      await this.audit.recordBestEffort(
        {
          action: 'password.login_failed',
          outcome: 'failure',
          actor: 'anonymous',
          ...(user ? { target: `user:${user._id}`, ipOwner: { userId: user._id, keySalt: user.keySalt } } : {}),
          details: { reason: !user ? 'unknown_account' : !usable ? 'no_password' : 'wrong_password' },
        },
        meta,
      );
      throw new AppError('CREDENTIALS_INVALID');
    }
    if (user.status !== 'active') throw new AppError(user.status === 'banned' ? 'ACCOUNT_BANNED' : 'ACCOUNT_DISABLED');
    await this.backoff.recordSuccess(canonical);
    if (needsRehash(usable)) {
      const passwordHash = await hashPassword(password);
      await guardStore(() => this.credentials.updateOne({ _id: user._id, passwordHash: usable }, { $set: { passwordHash } }));
    }
    if (credential?.totpSecret || this.needsTotp(user.roles)) {
      const pendingToken = randomId(32);
      const pending: Pending = { userId: user._id, binding: sha256(binding), enrol: !credential?.totpSecret, attempts: 0 };
      // The secret to enrol is made here (a POST), so showing it later is a read-only GET (C7).
      if (pending.enrol) await this.beginEnrolment(user);
      await guardStore(() => this.deps.redis.set(this.pendingKey(pendingToken), JSON.stringify(pending), 'EX', PENDING_2FA_SECONDS));
      return { kind: pending.enrol ? 'enrol' : 'totp', pendingToken };
    }
    return { kind: 'session', user, session: await this.openSession(user, meta, 'password') };
  }

  private pendingKey(token: string): string {
    return `pending2fa:${sha256(token)}`;
  }

  private async readPending(token: string, binding: string | null): Promise<Pending> {
    const raw = await guardStore(() => this.deps.redis.get(this.pendingKey(token)));
    if (!raw) throw new AppError('LOGIN_STATE_INVALID');
    const pending = JSON.parse(raw) as Pending;
    if (!binding || !safeEqual(sha256(binding), pending.binding)) throw new AppError('LOGIN_STATE_INVALID');
    return pending;
  }

  /**
   * The owner or admin who must enrol before a session: a secret offered in the pending step.
   * Returns the secret (text and otpauth URI) to show; confirmed by finishTotp with a code.
   */
  async enrolmentForPending(token: string, binding: string | null): Promise<{ secret: string; uri: string; qrSvg: string }> {
    const pending = await this.readPending(token, binding);
    if (!pending.enrol) throw new AppError('LOGIN_STATE_INVALID');
    const user = await this.users.findById(pending.userId);
    const credential = user ? await guardStore(() => this.credentials.findOne({ _id: user._id })) : null;
    const secret = user && credential?.pendingTotpSecret ? this.sealer.open(credential.pendingTotpSecret, user._id) : null;
    if (!user || !secret) throw new AppError('LOGIN_STATE_INVALID');
    return this.offer(user, secret);
  }

  /** Step two: a TOTP code or a recovery code turns the pending entry into a session, once. */
  async finishTotp(
    token: string,
    binding: string | null,
    code: string,
    meta: RequestMeta,
  ): Promise<{ user: User; session: SessionTokenResult; recoveryCodes?: string[] }> {
    const pending = await this.readPending(token, binding);
    const user = await this.users.findById(pending.userId);
    if (user?.status !== 'active') throw new AppError('LOGIN_STATE_INVALID');
    let recoveryCodes: string[] | undefined;
    try {
      if (pending.enrol) recoveryCodes = await this.confirmEnrolment(user, code, meta, `user:${user._id}`);
      else await this.checkSecondFactor(user, code, meta);
    } catch (error) {
      const attempts = await guardStore(() =>
        this.deps.redis.eval(
          "local v = redis.call('GET', KEYS[1]); if not v then return -1 end; local p = cjson.decode(v); p.attempts = p.attempts + 1; redis.call('SET', KEYS[1], cjson.encode(p), 'KEEPTTL'); return p.attempts",
          1,
          this.pendingKey(token),
        ),
      );
      if (Number(attempts) >= PENDING_2FA_ATTEMPTS) await guardStore(() => this.deps.redis.del(this.pendingKey(token)));
      throw error;
    }
    // Single use: only the request that deletes the entry gets the session.
    if ((await guardStore(() => this.deps.redis.del(this.pendingKey(token)))) !== 1) throw new AppError('LOGIN_STATE_INVALID');
    const session = await this.openSession(user, meta, 'password+totp');
    return { user, session, ...(recoveryCodes ? { recoveryCodes } : {}) };
  }

  private async openSession(user: User, meta: RequestMeta, method: string): Promise<SessionTokenResult> {
    const session = await this.sessions.createBrowserSession(user, meta, { providerId: 'local', upstreamSid: null });
    try {
      await this.audit.record(
        {
          action: 'password.login_succeeded',
          outcome: 'success',
          actor: `user:${user._id}`,
          target: `session:${session.record._id}`,
          details: { kind: method, provider: 'local' },
          ipOwner: { userId: user._id, keySalt: user.keySalt },
        },
        meta,
      );
    } catch (error) {
      await this.sessions.revoke(session.record._id, user._id, 'audit_failed').catch(() => undefined);
      throw error;
    }
    return session;
  }

  /** A TOTP code (each usable once) or a recovery code (each usable once). Fails closed on Redis errors. */
  private async checkSecondFactor(user: User, code: string, meta: RequestMeta): Promise<void> {
    const credential = await guardStore(() => this.credentials.findOne({ _id: user._id }));
    const secret = credential?.totpSecret ? this.sealer.open(credential.totpSecret, user._id) : null;
    if (!credential || !secret) throw new AppError('TOTP_INVALID');
    const trimmed = code.replace(/\s/g, '');
    if (/^\d{6}$/.test(trimmed)) {
      const step = matchingStep(secret, trimmed, this.deps.clock.now().getTime());
      if (step !== null) {
        // Replay cache: the first use of (user, step) wins; the window is 3 steps long.
        const fresh = await guardStore(() => this.deps.redis.set(`totp-used:${user._id}:${step}`, '1', 'EX', 120, 'NX'));
        if (fresh === 'OK') return;
        await this.totpFailed(user, 'code_reused', meta);
      }
      await this.totpFailed(user, step === null ? 'wrong_code' : 'code_reused', meta);
    }
    const hash = sha256(normaliseRecoveryCode(trimmed));
    const known = (credential.recoveryCodes ?? []).some((stored) => safeEqual(stored, hash));
    // The claim is a unique insert: two concurrent uses of one code, exactly one wins.
    if (known && (await insertUnique(() => this.claims.insertOne({ _id: `recovery:${user._id}:${hash}`, at: this.deps.clock.now() })))) {
      await guardStore(() => this.credentials.updateOne({ _id: user._id }, { $pull: { recoveryCodes: hash } }));
      await this.audit.record(
        {
          action: 'totp.recovery_code_used',
          outcome: 'success',
          actor: `user:${user._id}`,
          target: `user:${user._id}`,
          details: { count: Math.max(0, (credential.recoveryCodes?.length ?? 1) - 1) },
          ipOwner: { userId: user._id, keySalt: user.keySalt },
        },
        meta,
      );
      return;
    }
    const claimed = await guardStore(() => this.claims.findOne({ _id: `recovery:${user._id}:${hash}` }));
    await this.totpFailed(user, known || claimed ? 'recovery_code_reused' : 'wrong_code', meta);
  }

  private async totpFailed(user: User, reason: string, meta: RequestMeta): Promise<never> {
    await this.audit.recordBestEffort(
      {
        action: 'totp.failed',
        outcome: 'failure',
        actor: `user:${user._id}`,
        target: `user:${user._id}`,
        details: { reason },
        ipOwner: { userId: user._id, keySalt: user.keySalt },
      },
      meta,
    );
    throw new AppError('TOTP_INVALID');
  }

  /** Offers a new secret (stored sealed as pending); the person confirms it with a code. */
  async beginEnrolment(user: User): Promise<{ secret: string; uri: string; qrSvg: string }> {
    const secret = newTotpSecret();
    await guardStore(() =>
      this.credentials.updateOne(
        { _id: user._id },
        { $set: { pendingTotpSecret: this.sealer.seal(secret, user._id), updatedAt: this.deps.clock.now() } },
        { upsert: true },
      ),
    );
    return this.offer(user, secret);
  }

  private async offer(user: User, secret: string): Promise<{ secret: string; uri: string; qrSvg: string }> {
    const uri = totpFor(secret, user.email ?? user.name).toString();
    // An SVG for an <img src="data:image/svg+xml;base64,…">: the CSP allows data: images
    // (http/security-headers.ts) and it needs no script or inline style.
    const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret, uri, qrSvg };
  }

  /** Confirms the pending secret with a code; returns the ten recovery codes, shown once. */
  private async confirmEnrolment(user: User, code: string, meta: RequestMeta, actor: string): Promise<string[]> {
    const credential = await guardStore(() => this.credentials.findOne({ _id: user._id }));
    const secret = credential?.pendingTotpSecret ? this.sealer.open(credential.pendingTotpSecret, user._id) : null;
    const step = secret ? matchingStep(secret, code.trim(), this.deps.clock.now().getTime()) : null;
    if (!secret || step === null) return this.totpFailed(user, 'wrong_code', meta);
    if ((await guardStore(() => this.deps.redis.set(`totp-used:${user._id}:${step}`, '1', 'EX', 120, 'NX'))) !== 'OK') {
      return this.totpFailed(user, 'code_reused', meta);
    }
    const codes = newRecoveryCodes();
    await guardStore(() =>
      this.credentials.updateOne(
        { _id: user._id },
        {
          $set: { totpSecret: this.sealer.seal(secret, user._id), recoveryCodes: codes.map((c) => sha256(normaliseRecoveryCode(c))) },
          $unset: { pendingTotpSecret: '' },
        },
      ),
    );
    await this.audit.record(
      {
        action: 'totp.enabled',
        outcome: 'success',
        actor,
        target: `user:${user._id}`,
        ipOwner: { userId: user._id, keySalt: user.keySalt },
      },
      meta,
    );
    return codes;
  }

  private async assertPassword(user: User, password: string, meta: RequestMeta): Promise<Credential> {
    const credential = await guardStore(() => this.credentials.findOne({ _id: user._id }));
    const ok = await verifyPassword(credential?.passwordHash ?? (await dummyHash()), password);
    if (!credential?.passwordHash || !ok) {
      await this.audit.recordBestEffort(
        {
          action: 'password.login_failed',
          outcome: 'failure',
          actor: `user:${user._id}`,
          target: `user:${user._id}`,
          details: { reason: 'wrong_current_password' },
          ipOwner: { userId: user._id, keySalt: user.keySalt },
        },
        meta,
      );
      throw new AppError('CREDENTIALS_INVALID');
    }
    return credential;
  }

  /** Enrolment from the account page: current password, then a code from the new secret. */
  async enableTotp(user: User, password: string, code: string, meta: RequestMeta): Promise<string[]> {
    await this.assertPassword(user, password, meta);
    return this.confirmEnrolment(user, code, meta, `user:${user._id}`);
  }

  async disableTotp(user: User, password: string, code: string, meta: RequestMeta): Promise<void> {
    await this.assertPassword(user, password, meta);
    await this.checkSecondFactor(user, code, meta);
    await guardStore(() =>
      this.credentials.updateOne({ _id: user._id }, { $unset: { totpSecret: '', recoveryCodes: '', pendingTotpSecret: '' } }),
    );
    await this.audit.record(
      {
        action: 'totp.disabled',
        outcome: 'success',
        actor: `user:${user._id}`,
        target: `user:${user._id}`,
        ipOwner: { userId: user._id, keySalt: user.keySalt },
      },
      meta,
    );
  }

  /**
   * Change password: the current one is required; the token version is bumped, so every other
   * session, token and paired extension dies at its next request on every instance (A4). The
   * caller gets a fresh session.
   */
  async changePassword(user: User, current: string, next: string, meta: RequestMeta): Promise<SessionTokenResult> {
    await this.assertPassword(user, current, meta);
    this.assertAcceptable(next);
    const passwordHash = await hashPassword(next);
    await guardStore(() => this.credentials.updateOne({ _id: user._id }, { $set: { passwordHash, updatedAt: this.deps.clock.now() } }));
    await this.sessions.revokeAll(user._id, 'password_changed');
    const fresh = (await this.users.findById(user._id)) ?? user;
    await this.audit.record(
      {
        action: 'password.changed',
        outcome: 'success',
        actor: `user:${user._id}`,
        target: `user:${user._id}`,
        details: { reason: 'changed' },
        ipOwner: { userId: user._id, keySalt: user.keySalt },
      },
      meta,
    );
    return this.sessions.createBrowserSession(fresh, meta, { providerId: 'local', upstreamSid: null });
  }

  /**
   * A local account made from an invitation where LOCAL_LOGIN=all (docs/invitations.md): the
   * invited address, the chosen name and password. The slow hash comes before `claim` uses the
   * invitation up, so a refused password leaves the invitation open.
   */
  async createInvited(
    invitation: { email: string; claim: (userId: string) => Promise<boolean> },
    name: string,
    password: string,
    meta: RequestMeta,
  ): Promise<SessionTokenResult> {
    const now = this.deps.clock.now();
    const user = newAccount({ email: invitation.email, name, roles: ['user'] }, now);
    if (!this.allowed(user)) throw new AppError('LOCAL_LOGIN_DISABLED');
    this.assertAcceptable(password);
    if (await this.users.findByEmail(invitation.email)) throw new AppError('EMAIL_TAKEN');
    const passwordHash = await hashPassword(password);
    if (!(await invitation.claim(user._id))) throw new AppError('INVITATION_INVALID');
    if (!(await this.users.insertUser(user))) throw new AppError('EMAIL_TAKEN');
    await guardStore(() => this.credentials.insertOne({ _id: user._id, passwordHash, updatedAt: now }));
    await this.audit.record(
      {
        action: 'user.created',
        outcome: 'success',
        actor: `user:${user._id}`,
        target: `user:${user._id}`,
        details: { provider: 'local', reason: 'invitation' },
        ipOwner: { userId: user._id, keySalt: user.keySalt },
      },
      meta,
    );
    return this.openSession(user, meta, 'password');
  }

  /** Stores a new hash (policy already checked by the caller). */
  async storePassword(userId: string, password: string): Promise<void> {
    const passwordHash = await hashPassword(password);
    await guardStore(() =>
      this.credentials.updateOne({ _id: userId }, { $set: { passwordHash, updatedAt: this.deps.clock.now() } }, { upsert: true }),
    );
  }

  /** Whether the account has a password and 2FA (for the account page). */
  async status(userId: string): Promise<{ password: boolean; totp: boolean; recoveryCodesLeft: number }> {
    const credential = await guardStore(() => this.credentials.findOne({ _id: userId }));
    return {
      password: Boolean(credential?.passwordHash),
      totp: Boolean(credential?.totpSecret),
      recoveryCodesLeft: credential?.recoveryCodes?.length ?? 0,
    };
  }
  /** Account deletion (admin/deletion.ts): the person's password hash, TOTP secret and recovery codes go. */
  async deleteUserRecords(userId: string): Promise<void> {
    await guardStore(() => this.credentials.deleteOne({ _id: userId }));
  }
}

const ERROR_TEXT = {
  empty: 'The password is empty.',
  too_short: 'The password is too short.',
  too_long: 'The password is too long.',
  common: 'This password is on the list of common passwords.',
} as const;
