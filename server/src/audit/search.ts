import type { AuditAction, AuditOutcome } from '@gatehouse/shared';
import type { Collection, Document } from 'mongodb';
import { guardStore } from '../errors/index.js';
import { decodeTimeCursor, encodeCursor } from '../store/index.js';

/** What searchAudit filters on: exact action, outcome, actor and target; since inclusive, until exclusive. */
export interface AuditQuery {
  action?: AuditAction;
  outcome?: AuditOutcome;
  actor?: string;
  target?: string;
  since?: Date;
  until?: Date;
  cursor?: string;
  /** The page of newer entries just before this cursor (paging back). */
  before?: string;
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

/**
 * Audit entries matching exact filters, newest first, a page at a time. Encrypted IPs, their
 * blind index and key never leave here: the console does not show addresses.
 */
export async function searchAudit(
  entries: Collection<Document>,
  query: AuditQuery,
): Promise<{ entries: AuditView[]; next: string | null; prev: string | null }> {
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
  const projection = { projection: { ip: 0, ipIndex: 0, ipKey: 0 } };
  if (query.before) {
    // Newer entries: ascending from the cursor, one extra to know whether still newer ones exist.
    const { time: at, id } = decodeTimeCursor(query.before);
    const newer = await guardStore(() =>
      entries
        .find({ ...filter, $or: [{ time: { $gt: at } }, { time: at, _id: { $gt: id } }] } as Document, projection)
        .sort({ time: 1, _id: 1 })
        .limit(query.limit + 1)
        .toArray(),
    );
    const page = newer.slice(0, query.limit).reverse().map(toAuditView);
    const [first, last] = [page[0], page[page.length - 1]];
    return {
      entries: page,
      next: last ? encodeCursor(last.id, new Date(last.time)) : null,
      prev: newer.length > query.limit && first ? encodeCursor(first.id, new Date(first.time)) : null,
    };
  }
  if (query.cursor) {
    const { time: at, id } = decodeTimeCursor(query.cursor);
    filter.$or = [{ time: { $lt: at } }, { time: at, _id: { $lt: id } }];
  }
  const found = await guardStore(() =>
    entries
      .find(filter, projection)
      .sort({ time: -1, _id: -1 })
      .limit(query.limit + 1)
      .toArray(),
  );
  const page = found.slice(0, query.limit).map(toAuditView);
  const [first, last] = [page[0], page[page.length - 1]];
  return {
    entries: page,
    next: found.length > query.limit && last ? encodeCursor(last.id, new Date(last.time)) : null,
    prev: query.cursor && first ? encodeCursor(first.id, new Date(first.time)) : null,
  };
}

/** The latest entries about a user or by them, newest first, without IP fields. */
export async function entriesAbout(entries: Collection<Document>, userId: string, limit: number): Promise<AuditView[]> {
  const found = await guardStore(() =>
    entries
      .find({ $or: [{ target: `user:${userId}` }, { actor: `user:${userId}` }] }, { projection: { ip: 0, ipIndex: 0, ipKey: 0 } })
      .sort({ time: -1 })
      .limit(limit)
      .toArray(),
  );
  return found.map(toAuditView);
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
