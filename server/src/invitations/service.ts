import { canonicalizeEmail } from '@gatehouse/shared';
import type { AuditLog } from '../audit/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { randomId, safeEqual } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import { type Mailer, messages } from '../mail/index.js';
import type { TokenIssuer } from '../tokens/index.js';
import type { User, UserStore } from '../users/index.js';
import type { Invitation, InvitationStore } from './store.js';

/** Who may invite: an admin or owner in the console or API, or an operator's shell. */
export type InvitingActor = { kind: 'user'; user: User } | { kind: 'cli' };

export interface InvitationView {
  id: string;
  email: string;
  invitedBy: string;
  createdAt: string;
  expiresAt: string;
  status: 'pending' | 'accepted' | 'revoked' | 'expired';
  mailed: boolean;
  acceptedBy?: string;
}

export interface IssuedInvitation {
  invitation: InvitationView;
  /** Whether the mail went out; when not, `url` is the link for the admin to pass on. */
  sent: boolean;
  url?: string;
}

/**
 * Invitations (docs/invitations.md): an admin invites an address; the link carries a JWT of the
 * invitation's own `typ` and audience (docs/tokens.md), good for INVITATION_TTL_HOURS, bound to
 * the one stored invitation by its `jti`. It lets that person create an account through SSO even
 * when signup is closed or their domain is not allowed (or set a password where local login is
 * on); the first account made with it ends it, through a unique insert (store.ts).
 */
export class InvitationService {
  constructor(
    private readonly deps: Deps,
    private readonly store: InvitationStore,
    private readonly users: UserStore,
    private readonly issuer: TokenIssuer,
    private readonly mailer: Mailer,
    private readonly audit: AuditLog,
  ) {}

  async invite(actor: InvitingActor, rawEmail: string, meta?: RequestMeta): Promise<IssuedInvitation> {
    assertMayInvite(actor);
    const email = canonicalizeEmail(rawEmail);
    if (!email) throw new AppError('VALIDATION_FAILED', { detail: 'Enter a valid email address.' });
    const now = this.deps.clock.now();
    if (await this.users.isBanned(email)) throw new AppError('ACCOUNT_BANNED');
    if ((await this.users.findByEmail(email)) || (await this.store.findOpen(email, now))) throw new AppError('INVITATION_EXISTS');

    const id = randomId();
    const ttlSeconds = this.deps.config.INVITATION_TTL_HOURS * 3600;
    const { token, claims } = await this.issuer.mint('invitation', { sub: id, tokenVersion: 0, ttlSeconds });
    const invitation: Invitation = {
      _id: id,
      email,
      tokenJti: claims.jti,
      invitedBy: actorName(actor),
      createdAt: now,
      expiresAt: new Date(claims.exp * 1000),
      mailed: false,
      status: 'pending',
    };
    await this.store.insert(invitation);
    // The fragment never reaches a server or proxy log; the page hands it over in a POST body.
    const url = `${this.deps.config.publicOrigin}/invite#${token}`;
    const inviter = actor.kind === 'user' ? actor.user.name : 'An administrator';
    const sent = await this.mailer.send(messages.invitation(email, url, invitation.expiresAt, inviter));
    if (sent) {
      invitation.mailed = true;
      await this.store.setMailed(id, true);
    }
    await this.audit.record(
      {
        action: 'invitation.created',
        outcome: 'success',
        actor: invitation.invitedBy,
        target: `invitation:${id}`,
        details: { email, status: sent ? 'sent' : 'not_sent' },
      },
      meta,
    );
    return { invitation: this.view(invitation), sent, ...(sent ? {} : { url }) };
  }

  async list(limit: number, before?: Date): Promise<InvitationView[]> {
    return (await this.store.list(limit, before)).map((invitation) => this.view(invitation));
  }

  async revoke(actor: InvitingActor, id: string, meta?: RequestMeta): Promise<void> {
    assertMayInvite(actor);
    const invitation = await this.store.findById(id);
    if (!invitation) throw new AppError('NOT_FOUND');
    if (!(await this.store.end(id, 'revoked', this.deps.clock.now()))) throw new AppError('INVITATION_INVALID');
    await this.audit.record(
      { action: 'invitation.revoked', outcome: 'success', actor: actorName(actor), target: `invitation:${id}`, details: {} },
      meta,
    );
  }

  /**
   * The invitation a link opens, still pending and unexpired; anything else is refused with
   * INVITATION_INVALID and audited. Nothing is used up here: `accept` does that.
   */
  async open(token: string, meta: RequestMeta): Promise<Invitation> {
    let claims: Awaited<ReturnType<TokenIssuer['verify']>>;
    try {
      claims = await this.issuer.verify(token, 'invitation');
    } catch {
      throw await this.refuse('token_invalid', undefined, meta);
    }
    const invitation = await this.store.findById(claims.sub);
    if (!invitation || !safeEqual(invitation.tokenJti, claims.jti)) throw await this.refuse('unknown', undefined, meta);
    return this.stillOpen(invitation, meta);
  }

  /** The pending invitation a sign-in started with (by id, from the sign-in state). */
  async pending(id: string, meta: RequestMeta): Promise<Invitation> {
    const invitation = await this.store.findById(id);
    if (!invitation) throw await this.refuse('unknown', undefined, meta);
    return this.stillOpen(invitation, meta);
  }

  /** Ends the invitation for the account `userId` is about to be; false when someone was first. */
  async accept(invitation: Invitation, userId: string, meta: RequestMeta): Promise<boolean> {
    if (!(await this.store.end(invitation._id, 'accepted', this.deps.clock.now(), userId))) {
      await this.refuse('already_ended', invitation._id, meta);
      return false;
    }
    await this.audit.record(
      {
        action: 'invitation.accepted',
        outcome: 'success',
        actor: `user:${userId}`,
        target: `invitation:${invitation._id}`,
        details: { email: invitation.email },
      },
      meta,
    );
    return true;
  }

  deleteUserRecords(userId: string): Promise<void> {
    return this.store.deleteUserRecords(userId);
  }

  private async stillOpen(invitation: Invitation, meta: RequestMeta): Promise<Invitation> {
    if (invitation.status !== 'pending') throw await this.refuse(invitation.status, invitation._id, meta);
    if (invitation.expiresAt <= this.deps.clock.now()) throw await this.refuse('expired', invitation._id, meta);
    return invitation;
  }

  private async refuse(reason: string, id: string | undefined, meta: RequestMeta): Promise<AppError> {
    await this.audit.recordBestEffort(
      {
        action: 'invitation.accepted',
        outcome: 'failure',
        actor: 'anonymous',
        ...(id ? { target: `invitation:${id}` } : {}),
        details: { reason },
      },
      meta,
    );
    return new AppError('INVITATION_INVALID');
  }

  private view(invitation: Invitation): InvitationView {
    const expired = invitation.status === 'pending' && invitation.expiresAt <= this.deps.clock.now();
    return {
      id: invitation._id,
      email: invitation.email,
      invitedBy: invitation.invitedBy,
      createdAt: invitation.createdAt.toISOString(),
      expiresAt: invitation.expiresAt.toISOString(),
      status: expired ? 'expired' : invitation.status,
      mailed: invitation.mailed,
      ...(invitation.acceptedBy ? { acceptedBy: invitation.acceptedBy } : {}),
    };
  }
}

function assertMayInvite(actor: InvitingActor): void {
  if (actor.kind === 'user' && !actor.user.roles.some((role) => role === 'admin' || role === 'owner')) throw new AppError('FORBIDDEN');
}

function actorName(actor: InvitingActor): string {
  return actor.kind === 'user' ? `user:${actor.user._id}` : 'cli';
}
