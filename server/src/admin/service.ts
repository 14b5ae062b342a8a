import type { AdminUserQuery, AdminUserView, AuditAction, AuditOutcome, UserStatus } from '@gatehouse/shared';
import type { Document, Filter } from 'mongodb';
import type { AuditLog } from '../audit/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { AppError, guardStore } from '../errors/index.js';
import type { SessionService } from '../sessions/index.js';
import { COLLECTIONS } from '../store/index.js';
import type { RevocationState } from '../tokens/index.js';
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
    private readonly revocation: RevocationState,
    private readonly audit: AuditLog,
  ) {}

  async changeStatus(actor: Actor, targetId: string, change: StatusChange, meta?: RequestMeta): Promise<User> {
    const target = await this.users.findById(targetId);
    if (!target) throw new AppError('NOT_FOUND');
    assertMayAct(actor, target);
    const { to, from, action } = TRANSITIONS[change];
    if (!from.includes(target.status)) throw new AppError('USER_STATUS_CONFLICT');
    const now = this.deps.clock.now();
    const stopping = to !== 'active';
    const updated = await guardStore(() =>
      this.users.users.findOneAndUpdate(
        { _id: targetId, status: target.status },
        { $set: { status: to, updatedAt: now }, ...(stopping ? { $inc: { tokenVersion: 1 } } : {}) },
        { returnDocument: 'after' },
      ),
    );
    if (!updated) throw new AppError('USER_STATUS_CONFLICT'); // changed concurrently: the caller re-reads
    if (change === 'ban') await this.recordBan(updated, now);
    if (change === 'unban') await guardStore(() => this.deps.db.collection(COLLECTIONS.bans).deleteMany({ userId: targetId }));
    await this.revocation.userChanged(targetId, { tokenVersion: updated.tokenVersion, status: updated.status });
    const revoked = stopping ? await this.sessions.revokeOthers(targetId, null, `admin_${change}`) : 0;
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
    const now = this.deps.clock.now();
    const updated = await guardStore(() =>
      this.users.users.findOneAndUpdate(
        { _id: targetId },
        { $set: { roles: [...roles].sort(), grantedRoles: [...granted].sort(), updatedAt: now } },
        { returnDocument: 'after' },
      ),
    );
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
  async search(query: AdminUserQuery): Promise<{ users: AdminUserView[]; next: string | null }> {
    const filter: Filter<User> = {};
    if (query.q) {
      const prefix = new RegExp(`^${escapeRegExp(query.q.toLowerCase())}`);
      filter.$or = [{ email: prefix }, { name: new RegExp(`^${escapeRegExp(query.q)}`, 'i') }];
    }
    if (query.status) filter.status = query.status;
    if (query.role) filter.roles = query.role;
    if (query.cursor) filter._id = { $gt: decodeCursor(query.cursor) };
    const found = await guardStore(() =>
      this.users.users
        .find(filter)
        .sort({ _id: 1 })
        .limit(query.limit + 1)
        .toArray(),
    );
    const page = found.slice(0, query.limit);
    const last = page[page.length - 1];
    return { users: page.map(toView), next: found.length > query.limit && last ? Buffer.from(last._id).toString('base64url') : null };
  }

  /** One user with their identities, active sessions and recent audit events. */
  async detail(userId: string) {
    const user = await this.users.findById(userId);
    if (!user) throw new AppError('NOT_FOUND');
    const [identities, { sessions }, events] = await Promise.all([
      this.users.listIdentities(userId),
      this.sessions.listForUser(user, null, 100),
      guardStore(() =>
        this.deps.db
          .collection(COLLECTIONS.audit)
          .find({ $or: [{ target: `user:${userId}` }, { actor: `user:${userId}` }] }, { projection: { ip: 0, ipIndex: 0, ipKey: 0 } })
          .sort({ time: -1 })
          .limit(20)
          .toArray(),
      ),
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
      events: events.map((event) => ({
        time: (event.time as Date).toISOString(),
        action: event.action as string,
        outcome: event.outcome as string,
        actor: event.actor as string,
        target: (event.target as string | null) ?? null,
      })),
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
    const count = await this.sessions.revokeAll(targetId, 'admin_revoked_all');
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

  /**
   * Audit entries matching exact filters, newest first, a page at a time. Encrypted IPs, their
   * blind index and key never leave here: the console does not show addresses.
   */
  async searchAudit(query: AuditQuery): Promise<{ entries: AuditView[]; next: string | null }> {
    // Audit ids are strings (randomId), not ObjectIds: a plain document filter, built from parsed values only.
    const filter: Document = {};
    if (query.action) filter.action = query.action;
    if (query.outcome) filter.outcome = query.outcome;
    if (query.actor) filter.actor = query.actor;
    if (query.target) filter.target = query.target;
    const time: Record<string, Date> = {};
    if (query.since) time.$gte = query.since;
    if (query.until) time.$lt = query.until;
    if (Object.keys(time).length) filter.time = time;
    if (query.cursor) {
      const { at, id } = decodeAuditCursor(query.cursor);
      filter.$or = [{ time: { $lt: at } }, { time: at, _id: { $lt: id } }];
    }
    const found = await guardStore(() =>
      this.deps.db
        .collection(COLLECTIONS.audit)
        .find(filter, { projection: { ip: 0, ipIndex: 0, ipKey: 0 } })
        .sort({ time: -1, _id: -1 })
        .limit(query.limit + 1)
        .toArray(),
    );
    const page = found.slice(0, query.limit).map(toAuditView);
    const last = page[page.length - 1];
    return {
      entries: page,
      next: found.length > query.limit && last ? Buffer.from(`${Date.parse(last.time)}.${last.id}`).toString('base64url') : null,
    };
  }

  private async recordBan(user: User, at: Date): Promise<void> {
    const identities = await this.users.listIdentities(user._id);
    const emails = new Set([user.email, ...identities.filter((i) => i.emailVerified).map((i) => i.email)].filter((e): e is string => !!e));
    const bans = this.deps.db.collection<{ _id: string; userId: string; at: Date }>(COLLECTIONS.bans);
    for (const email of emails) {
      await guardStore(() => bans.updateOne({ _id: email }, { $set: { userId: user._id, at } }, { upsert: true }));
    }
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

/** What searchAudit filters on: exact action, outcome, actor and target; since inclusive, until exclusive. */
export interface AuditQuery {
  action?: AuditAction;
  outcome?: AuditOutcome;
  actor?: string;
  target?: string;
  since?: Date;
  until?: Date;
  cursor?: string;
  limit: number;
}

/** An audit entry as the console shows it: no IP fields. */
export interface AuditView {
  id: string;
  time: string;
  action: string;
  outcome: string;
  actor: string;
  target: string | null;
  requestId: string | null;
  seq: number | null;
  details: Record<string, unknown>;
}

function toAuditView(raw: Document): AuditView {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    id: String(raw._id),
    time: raw.time instanceof Date ? raw.time.toISOString() : new Date(0).toISOString(),
    action: text(raw.action) ?? '',
    outcome: text(raw.outcome) ?? '',
    actor: text(raw.actor) ?? '',
    target: text(raw.target),
    requestId: text(raw.requestId),
    seq: typeof raw.seq === 'number' ? raw.seq : null,
    details: raw.details && typeof raw.details === 'object' ? (raw.details as Record<string, unknown>) : {},
  };
}

function decodeAuditCursor(cursor: string): { at: Date; id: string } {
  const [time, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('.');
  const ms = Number(time);
  if (!id || !Number.isSafeInteger(ms) || !/^[A-Za-z0-9_-]{1,64}$/.test(id))
    throw new AppError('VALIDATION_FAILED', { issues: [{ path: 'cursor', message: 'Not a valid cursor.' }] });
  return { at: new Date(ms), id };
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

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id))
    throw new AppError('VALIDATION_FAILED', { issues: [{ path: 'cursor', message: 'Not a valid cursor.' }] });
  return id;
}
