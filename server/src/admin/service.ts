import type { AdminUserQuery, AdminUserView, AuditAction, UserStatus } from '@gatehouse/shared';
import type { Filter } from 'mongodb';
import type { AuditLog } from '../audit/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { AppError } from '../errors/index.js';
import type { SessionService } from '../sessions/index.js';
import { decodeIdCursor, encodeCursor } from '../store/index.js';
import type { User, UserStore } from '../users/index.js';

/**
 * Who performs an admin action: a signed-in admin or owner, an operator's shell (`cli`), or
 * Gatehouse itself acting on a verified signal from a trusted party (`system`, e.g. a Shared
 * Signals transmitter disabling an account).
 */
export type Actor = { kind: 'user'; user: User } | { kind: 'cli' } | { kind: 'system' };

const TRANSITIONS: Record<'disable' | 'enable' | 'ban' | 'unban', { to: UserStatus; from: UserStatus[]; action: AuditAction }> = {
  disable: { to: 'disabled', from: ['active'], action: 'user.disabled' },
  enable: { to: 'active', from: ['disabled'], action: 'user.enabled' },
  ban: { to: 'banned', from: ['active', 'disabled'], action: 'user.banned' },
  unban: { to: 'active', from: ['banned'], action: 'user.unbanned' },
};
export type StatusChange = keyof typeof TRANSITIONS;

/**
 * Central account control. Stopping an account (disable, ban) is one call: MongoDB first (the
 * status and a bumped tokenVersion, so every token of every type dies at once; every session
 * marked revoked), then the Redis mirror and the announcement to every instance — all before
 * the call returns, so the next request anywhere is refused. A ban also records the account's
 * verified emails, so the person cannot come back through another identity.
 */
export class AdminService {
  constructor(
    private readonly deps: Deps,
    private readonly users: UserStore,
    private readonly sessions: SessionService,
    private readonly audit: AuditLog,
  ) {}

  async changeStatus(actor: Actor, targetId: string, change: StatusChange, meta?: RequestMeta): Promise<User> {
    const target = await this.users.findById(targetId);
    if (!target) throw new AppError('NOT_FOUND');
    assertMayAct(actor, target);
    const { to, from, action } = TRANSITIONS[change];
    if (!from.includes(target.status)) throw new AppError('USER_STATUS_CONFLICT');
    // A concurrent change makes the guarded update miss: USER_STATUS_CONFLICT, the caller re-reads.
    let updated: User;
    let revoked = 0;
    if (to === 'active') {
      updated = await this.sessions.resumeAccount(targetId, target.status);
      if (change === 'unban') await this.users.liftBan(targetId);
    } else {
      ({ user: updated, revoked } = await this.sessions.stopAccount(targetId, `admin_${change}`, { to, from: target.status }));
      if (change === 'ban') await this.recordBan(updated);
    }
    await this.audit.record(
      { action, outcome: 'success', actor: actorName(actor), target: `user:${targetId}`, details: { status: to, count: revoked } },
      meta,
    );
    return updated;
  }

  /**
   * Grants or takes away the admin role (owners only; never on an owner or on oneself). A
   * grant is remembered as granted, so the identity provider's group mapping does not undo it
   * at the next sign-in; taking it away also drops it from the grants.
   */
  async changeRoles(actor: Actor, targetId: string, change: { admin: boolean }, meta?: RequestMeta): Promise<User> {
    if (actor.kind === 'user' && !actor.user.roles.includes('owner')) throw new AppError('FORBIDDEN');
    const target = await this.users.findById(targetId);
    if (!target) throw new AppError('NOT_FOUND');
    assertMayAct(actor, target);
    const roles = new Set(target.roles);
    const granted = new Set(target.grantedRoles ?? []);
    if (change.admin) {
      roles.add('admin');
      granted.add('admin');
    } else {
      roles.delete('admin');
      granted.delete('admin');
    }
    const updated = await this.users.setRoles(targetId, [...roles].sort(), this.deps.clock.now(), [...granted].sort());
    if (!updated) throw new AppError('NOT_FOUND');
    await this.users.onChange(targetId);
    await this.audit.record(
      {
        action: 'role.changed',
        outcome: 'success',
        actor: actorName(actor),
        target: `user:${targetId}`,
        details: { roles: updated.roles },
      },
      meta,
    );
    return updated;
  }

  /** Users matching a search (email or name prefix, case-insensitive), a status and a role. */
  async search(query: AdminUserQuery): Promise<{ users: AdminUserView[]; next: string | null; prev: string | null }> {
    const filter: Filter<User> = {};
    if (query.q) {
      // Anywhere in the email or name: a domain ("example.com") or a surname finds people too.
      const anywhere = new RegExp(escapeRegExp(query.q), 'i');
      filter.$or = [{ email: anywhere }, { name: anywhere }];
    }
    if (query.status) filter.status = query.status;
    if (query.role) filter.roles = query.role;
    if (query.before) {
      // Paging back: one more than a page tells whether there is a page before this one.
      const found = await this.users.pageBefore(filter, query.limit + 1, decodeIdCursor(query.before));
      const page = found.length > query.limit ? found.slice(1) : found;
      const [first, last] = [page[0], page[page.length - 1]];
      return {
        users: page.map(toView),
        next: last ? encodeCursor(last._id) : null,
        prev: found.length > query.limit && first ? encodeCursor(first._id) : null,
      };
    }
    const found = await this.users.page(filter, query.limit + 1, query.cursor ? decodeIdCursor(query.cursor) : undefined);
    const page = found.slice(0, query.limit);
    const [first, last] = [page[0], page[page.length - 1]];
    return {
      users: page.map(toView),
      next: found.length > query.limit && last ? encodeCursor(last._id) : null,
      prev: query.cursor && first ? encodeCursor(first._id) : null,
    };
  }

  /** One user with their identities, active sessions and recent audit events. */
  async detail(userId: string) {
    const user = await this.users.findById(userId);
    if (!user) throw new AppError('NOT_FOUND');
    const [identities, { sessions }, events] = await Promise.all([
      this.users.listIdentities(userId),
      this.sessions.listForUser(user, null, 100),
      this.audit.about(userId, 20),
    ]);
    return {
      user: toView(user),
      identities: identities.map((identity) => ({
        provider: identity.providerId,
        issuer: identity.iss,
        email: identity.email,
        emailVerified: identity.emailVerified,
        lastSignInAt: identity.lastSignInAt.toISOString(),
      })),
      // Admins see devices and times, not IP addresses: those are shown only to their own user.
      sessions: sessions.map((session) => ({ ...session, ip: null })),
      events: events.map(({ time, action, outcome, actor, target }) => ({ time, action, outcome, actor, target })),
    };
  }

  /**
   * Signs a user out everywhere (token version bumped, every session revoked) under the same
   * rules as the status changes: an admin cannot do it to an owner, another admin or themself.
   */
  async revokeAll(actor: Actor, targetId: string, meta?: RequestMeta): Promise<number> {
    const target = await this.users.findById(targetId);
    if (!target) throw new AppError('NOT_FOUND');
    assertMayAct(actor, target);
    const { revoked: count } = await this.sessions.stopAccount(targetId, 'admin_revoked_all');
    await this.audit.record(
      {
        action: 'session.revoked_all',
        outcome: 'success',
        actor: actorName(actor),
        target: `user:${targetId}`,
        details: { count, reason: 'admin' },
      },
      meta,
    );
    return count;
  }

  private async recordBan(user: User): Promise<void> {
    const identities = await this.users.listIdentities(user._id);
    const emails = new Set([user.email, ...identities.filter((i) => i.emailVerified).map((i) => i.email)].filter((e): e is string => !!e));
    await this.users.recordBan(user._id, emails, this.deps.clock.now());
  }
}

/** An admin cannot act on an owner or on themself; only owners act on other admins. */
function assertMayAct(actor: Actor, target: User): void {
  if (actor.kind !== 'user') return;
  const roles = actor.user.roles;
  if (!roles.includes('admin') && !roles.includes('owner')) throw new AppError('FORBIDDEN');
  if (actor.user._id === target._id) throw new AppError('FORBIDDEN', { detail: 'You cannot change your own account here.' });
  if (target.roles.includes('owner')) throw new AppError('FORBIDDEN');
  if (target.roles.includes('admin') && !roles.includes('owner')) throw new AppError('FORBIDDEN');
}

export function actorName(actor: Actor): string {
  return actor.kind === 'user' ? `user:${actor.user._id}` : actor.kind;
}

function toView(user: User): AdminUserView {
  return {
    id: user._id,
    email: user.email ?? null,
    name: user.name,
    status: user.status,
    roles: user.roles,
    createdAt: user.createdAt.toISOString(),
    lastSignInAt: user.lastSignInAt?.toISOString() ?? null,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
