import type { AuditLog } from '../audit/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { AppError } from '../errors/index.js';
import { type Mailer, messages } from '../mail/index.js';
import type { TokenIssuer } from '../tokens/index.js';
import type { User, UserStore } from '../users/index.js';

/** A confirmation link lives a day. */
export const EMAIL_LINK_SECONDS = 86_400;

export interface ProfileView {
  name: string;
  email: string | null;
  emailEditable: boolean;
  pendingEmail?: string;
}

/**
 * A person's own profile (docs/profile.md): the display name changes at once; the email of a
 * local account (one with no SSO identity: a provider's address is the provider's to change)
 * changes only when the link mailed to the new address is followed. The link is a JWT of its
 * own `typ` and audience (docs/tokens.md), bound to the account's token version and to the
 * latest request by its `jti`, so it works once and a newer request or a revoke-all voids it.
 */
export class ProfileService {
  constructor(
    private readonly deps: Deps,
    private readonly users: UserStore,
    private readonly issuer: TokenIssuer,
    private readonly mailer: Mailer,
    private readonly audit: AuditLog,
  ) {}

  async view(user: User): Promise<ProfileView> {
    const pending = user.pendingEmail && user.pendingEmail.expiresAt > this.deps.clock.now() ? user.pendingEmail.email : undefined;
    return {
      name: user.name,
      email: user.email ?? null,
      emailEditable: await this.emailEditable(user),
      ...(pending ? { pendingEmail: pending } : {}),
    };
  }

  /** Only the fields present change; `{}` changes nothing. */
  async update(user: User, patch: { name?: string | undefined; email?: string | undefined }, meta: RequestMeta): Promise<ProfileView> {
    let current = user;
    if (patch.email !== undefined && patch.email !== user.email) {
      if (!(await this.emailEditable(user))) throw new AppError('EMAIL_READ_ONLY');
      const owner = await this.users.findByEmail(patch.email);
      if (owner && owner._id !== user._id) throw new AppError('EMAIL_TAKEN');
      if (await this.users.isBanned(patch.email)) throw new AppError('EMAIL_TAKEN');
    }
    if (patch.name !== undefined && patch.name !== user.name) {
      current = (await this.users.setName(user._id, patch.name, this.deps.clock.now())) ?? current;
      await this.audit.record(
        {
          action: 'user.updated',
          outcome: 'success',
          actor: `user:${user._id}`,
          target: `user:${user._id}`,
          details: { reason: 'display_name' },
          ipOwner: { userId: user._id, keySalt: user.keySalt },
        },
        meta,
      );
    }
    if (patch.email !== undefined && patch.email !== user.email) current = await this.requestEmailChange(current, patch.email, meta);
    return this.view(current);
  }

  /** Follows a confirmation link: the new address becomes the account's, once. */
  async confirmEmail(token: string, meta: RequestMeta): Promise<void> {
    const refuse = async (reason: string, userId?: string) => {
      await this.audit.recordBestEffort(
        {
          action: 'email.changed',
          outcome: 'failure',
          actor: 'anonymous',
          ...(userId ? { target: `user:${userId}` } : {}),
          details: { reason },
        },
        meta,
      );
      return new AppError('EMAIL_LINK_INVALID');
    };
    let claims: Awaited<ReturnType<TokenIssuer['verify']>>;
    try {
      claims = await this.issuer.verify(token, 'emailChange');
    } catch {
      throw await refuse('token_invalid');
    }
    const user = await this.users.findById(claims.sub);
    if (user?.status !== 'active') throw await refuse('account_inactive', claims.sub);
    if (user.tokenVersion !== claims.tokenVersion) throw await refuse('token_version_changed', user._id);
    const result = await this.users.confirmEmail(user._id, claims.jti, this.deps.clock.now());
    if (result === false) throw new AppError('EMAIL_TAKEN');
    if (!result) throw await refuse('link_used_or_replaced', user._id);
    await this.audit.record(
      {
        action: 'email.changed',
        outcome: 'success',
        actor: `user:${user._id}`,
        target: `user:${user._id}`,
        details: { email: result.email ?? '' },
        ipOwner: { userId: user._id, keySalt: user.keySalt },
      },
      meta,
    );
  }

  private async requestEmailChange(user: User, email: string, meta: RequestMeta): Promise<User> {
    const { token, claims } = await this.issuer.mint('emailChange', {
      sub: user._id,
      tokenVersion: user.tokenVersion,
      ttlSeconds: EMAIL_LINK_SECONDS,
    });
    const expiresAt = new Date(claims.exp * 1000);
    const url = `${this.deps.config.publicOrigin}/confirm-email#${token}`;
    // Nothing is remembered unless the link went out: the person can simply try again.
    if (!(await this.mailer.send(messages.emailChange(email, url, expiresAt)))) throw new AppError('MAIL_NOT_SENT');
    const pendingEmail = { email, jti: claims.jti, expiresAt };
    await this.users.setPendingEmail(user._id, pendingEmail, this.deps.clock.now());
    await this.audit.record(
      {
        action: 'email.change_requested',
        outcome: 'success',
        actor: `user:${user._id}`,
        target: `user:${user._id}`,
        details: { email },
        ipOwner: { userId: user._id, keySalt: user.keySalt },
      },
      meta,
    );
    return { ...user, pendingEmail };
  }

  /** A local account only: an SSO identity's provider owns the address. */
  private async emailEditable(user: User): Promise<boolean> {
    return (await this.users.listIdentities(user._id)).length === 0;
  }
}
