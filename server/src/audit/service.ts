import type { ActivityEntry, AuditAction, AuditOutcome } from '@gatehouse/shared';
import type { Collection, Document } from 'mongodb';
import type { Deps, RequestMeta } from '../context.js';
import { randomId } from '../crypto/index.js';
import { guardStore } from '../errors/index.js';
import { describeDevice } from '../http/index.js';
import { safeLogValue } from '../log/index.js';
import { COLLECTIONS } from '../store/index.js';
import { describeForReader } from './describe.js';
import { type AuditQuery, type AuditView, entriesAbout, searchAudit } from './search.js';

/** Fields that may appear in an entry's details; anything else is dropped, so no secret can slip in. */
const DETAIL_KEYS = [
  'provider',
  'reason',
  'kind',
  'sessionId',
  'count',
  'status',
  'role',
  'roles',
  'code',
  'pairingId',
  'clientId',
  'email',
  /** The device (or API token name) of a session that ended, as listed to its owner. */
  'device',
] as const;
type DetailKey = (typeof DETAIL_KEYS)[number];
export type AuditDetails = Partial<Record<DetailKey, string | number | boolean | string[]>>;

export interface AuditEvent {
  action: AuditAction;
  outcome: AuditOutcome;
  /** `user:<id>`, `anonymous`, `cli` or `system`. */
  actor: string;
  /** What the action was about, e.g. `user:<id>` or `session:<id>`. */
  target?: string;
  details?: AuditDetails;
  /** The user whose key encrypts the IP; without it the system key is used. */
  ipOwner?: { userId: string; keySalt: string };
}

export interface AuditEntry {
  _id: string;
  time: Date;
  action: AuditAction;
  outcome: AuditOutcome;
  actor: string;
  target: string | null;
  requestId: string | null;
  ip: string | null;
  ipIndex: string | null;
  ipKey: string | null;
  userAgent: string | null;
  details: AuditDetails;
}

/** The salt of the key that encrypts IPs of requests with no known user. */
const SYSTEM_IP_SALT = Buffer.from('gatehouse-system-ip-key').toString('base64url');

export class AuditLog {
  private readonly entries: Collection<AuditEntry>;
  /** The same collection, read as plain documents (entries written by older versions included). */
  private readonly documents: Collection<Document>;
  /** Display names of users by id, for activity in words (wired by the app: users/ owns them). */
  names: ((ids: string[]) => Promise<ReadonlyMap<string, string>>) | null = null;

  constructor(private readonly deps: Deps) {
    this.entries = deps.db.collection<AuditEntry>(COLLECTIONS.audit);
    this.documents = deps.db.collection(COLLECTIONS.audit);
  }

  /**
   * Appends an entry. Awaited by every flow that issues something: if the entry can't be
   * written, the flow fails and nothing is issued (docs/security-model.md "Failure policy").
   */
  async record(event: AuditEvent, meta?: RequestMeta): Promise<void> {
    const { ipCipher, clock } = this.deps;
    const owner = event.ipOwner ?? { userId: 'system', keySalt: SYSTEM_IP_SALT };
    const entry: AuditEntry = {
      _id: randomId(),
      time: clock.now(),
      action: event.action,
      outcome: event.outcome,
      actor: event.actor,
      target: event.target ?? null,
      requestId: meta?.requestId ?? null,
      ip: meta?.ip ? ipCipher.encrypt(meta.ip, owner.userId, owner.keySalt) : null,
      ipIndex: meta?.ip ? ipCipher.blindIndex(meta.ip) : null,
      ipKey: meta?.ip ? owner.userId : null,
      userAgent: meta?.userAgent ? safeLogValue(meta.userAgent, 300) : null,
      details: pickDetails(event.details),
    };
    await guardStore(() => this.entries.insertOne(entry));
    this.deps.metrics?.audited(event);
  }

  /**
   * Entries matching exact filters, newest first, a page at a time (the admin console). Encrypted
   * IPs, their blind index and key never leave here: the console does not show addresses.
   */
  search(query: AuditQuery): Promise<{ entries: AuditView[]; next: string | null; prev: string | null }> {
    return searchAudit(this.documents, query);
  }

  /** The latest entries about a user or by them (an admin's view of one user), without IP fields. */
  about(userId: string, limit: number): Promise<AuditView[]> {
    return entriesAbout(this.documents, userId, limit);
  }

  /** For rejections: the refusal stands even if the entry can't be written; that is logged. */
  /**
   * A person's own recent security activity: entries about them or by them, newest first, IPs
   * decrypted only where they were sealed under this person's key.
   */
  async recentFor(user: { _id: string; keySalt: string }, limit: number): Promise<ActivityEntry[]> {
    const entries = await guardStore(() =>
      this.entries
        .find({ $or: [{ target: `user:${user._id}` }, { actor: `user:${user._id}` }] })
        .sort({ time: -1 })
        .limit(limit)
        .toArray(),
    );
    const mentioned = new Set(
      entries
        .flatMap((entry) => [entry.actor, entry.target ?? ''])
        .filter((party) => party.startsWith('user:') && party !== `user:${user._id}`),
    );
    const names =
      mentioned.size > 0 && this.names ? await this.names([...mentioned].map((party) => party.slice(5))) : new Map<string, string>();
    return entries.map((entry) => ({
      time: entry.time.toISOString(),
      action: entry.action,
      outcome: entry.outcome,
      description: describeForReader(entry, user._id, names),
      ip: entry.ip && entry.ipKey === user._id ? this.deps.ipCipher.decrypt(entry.ip, user._id, user.keySalt) : null,
      device: entry.userAgent ? describeDevice(entry.userAgent) : null,
    }));
  }

  async recordBestEffort(event: AuditEvent, meta?: RequestMeta): Promise<void> {
    try {
      await this.record(event, meta);
    } catch (error) {
      this.deps.log.error({ err: error, action: event.action }, 'audit.write_failed');
    }
  }
}

function pickDetails(details: AuditDetails | undefined): AuditDetails {
  const picked: AuditDetails = {};
  if (!details) return picked;
  for (const key of DETAIL_KEYS) {
    const value = details[key];
    if (value === undefined) continue;
    picked[key] = typeof value === 'string' ? safeLogValue(value, 200) : value;
  }
  return picked;
}
