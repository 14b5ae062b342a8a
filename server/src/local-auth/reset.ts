import type { Collection } from 'mongodb';
import type { AuditLog } from '../audit/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { AppError, guardStore, insertUnique } from '../errors/index.js';
import type { SessionService } from '../sessions/index.js';
import { COLLECTIONS } from '../store/index.js';
import type { TokenIssuer } from '../tokens/index.js';
import type { User, UserStore } from '../users/index.js';
import type { LocalAuthService } from './service.js';

/** Who resets: an admin or owner (console, API) or an operator's shell. Same shape as admin's Actor. */
type ResettingActor = { kind: 'user'; user: User } | { kind: 'cli' } | { kind: 'system' };

/** A reset link lives at most an hour. */
export const RESET_LINK_SECONDS = 3600;

/**
 * Where a reset link goes: the mailer (docs/mail.md). When it could not send (no SMTP_URL, or
 * the server refused), the link is handed to the admin who asked for it, to pass on by hand.
 */
export interface ResetLinkSender {
  /** True when the link went out; false to have it shown to the admin instead. */
  sendResetLink(email: string, url: string, expiresAt: Date): Promise<boolean>;
}

/**
 * Admin password reset: the person's password is removed and their token version bumped at
 * once (every session, token and paired extension dies), and a single-use link lets them set a
 * new one. The link is a JWT of its own `typ` and audience (never accepted as another token),
 * bound to the token version at issue, and used once through a unique insert of its jti.
 */
export class PasswordResets {
  private readonly claims: Collection<{ _id: string; at: Date }>;

  constructor(
    private readonly deps: Deps,
    private readonly users: UserStore,
    private readonly sessions: SessionService,
    private readonly issuer: TokenIssuer,
    private readonly local: LocalAuthService,
    private readonly audit: AuditLog,
    private readonly sender: ResetLinkSender | null = null,
  ) {
    this.claims = deps.db.collection(COLLECTIONS.system);
  }

  async issue(actor: ResettingActor, targetId: string, meta?: RequestMeta): Promise<{ url: string; sent: boolean; expiresAt: string }> {
    const target = await this.users.findById(targetId);
    if (!target) throw new AppError('NOT_FOUND');
    if (actor.kind === 'user') {
      const roles = actor.user.roles;
      if (!roles.includes('admin') && !roles.includes('owner')) throw new AppError('FORBIDDEN');
      if (actor.user._id === target._id || target.roles.includes('owner')) throw new AppError('FORBIDDEN');
      if (target.roles.includes('admin') && !roles.includes('owner')) throw new AppError('FORBIDDEN');
    }
    if (!target.email || !this.local.allowed(target)) throw new AppError('LOCAL_LOGIN_DISABLED');
    await guardStore(() => this.local.credentials.updateOne({ _id: target._id }, { $unset: { passwordHash: '' } }));
    await this.sessions.revokeAll(target._id, 'password_reset');
    const fresh = (await this.users.findById(target._id)) ?? target;
    const { token, claims } = await this.issuer.mint('passwordReset', {
      sub: target._id,
      tokenVersion: fresh.tokenVersion,
      ttlSeconds: RESET_LINK_SECONDS,
    });
    const url = `${this.deps.config.publicOrigin}/reset-password#${token}`;
    const expiresAt = new Date(claims.exp * 1000);
    const sent = this.sender ? await this.sender.sendResetLink(target.email, url, expiresAt).catch(() => false) : false;
    await this.audit.record(
      {
        action: 'password.reset',
        outcome: 'success',
        actor: actor.kind === 'user' ? `user:${actor.user._id}` : actor.kind,
        target: `user:${target._id}`,
        details: { reason: 'link_issued', status: sent ? 'sent' : 'shown_to_admin' },
        ipOwner: { userId: target._id, keySalt: target.keySalt },
      },
      meta,
    );
    return { url, sent, expiresAt: expiresAt.toISOString() };
  }

  /** Sets the new password from a reset link, once; bumps the token version again. */
  async complete(token: string, password: string, meta: RequestMeta): Promise<void> {
    const refuse = async (reason: string, userId?: string) => {
      await this.audit.recordBestEffort(
        {
          action: 'password.reset',
          outcome: 'failure',
          actor: 'anonymous',
          ...(userId ? { target: `user:${userId}` } : {}),
          details: { reason },
        },
        meta,
      );
      return new AppError('RESET_LINK_INVALID');
    };
    let claims: Awaited<ReturnType<TokenIssuer['verify']>>;
    try {
      claims = await this.issuer.verify(token, 'passwordReset');
    } catch {
      throw await refuse('token_invalid');
    }
    const user = await this.users.findById(claims.sub);
    if (user?.status !== 'active') throw await refuse('account_inactive', claims.sub);
    // A later reset or revoke-all bumped the version: this link is dead.
    if (user.tokenVersion !== claims.tokenVersion) throw await refuse('token_version_changed', user._id);
    this.local.assertAcceptable(password);
    if (!(await insertUnique(() => this.claims.insertOne({ _id: `password-reset:${claims.jti}`, at: this.deps.clock.now() })))) {
      throw await refuse('link_reused', user._id);
    }
    await this.local.storePassword(user._id, password);
    await this.sessions.revokeAll(user._id, 'password_reset');
    await this.audit.record(
      {
        action: 'password.reset',
        outcome: 'success',
        actor: `user:${user._id}`,
        target: `user:${user._id}`,
        details: { reason: 'link_used' },
        ipOwner: { userId: user._id, keySalt: user.keySalt },
      },
      meta,
    );
  }
}
