import type { Db } from 'mongodb';
import { COLLECTIONS } from '../store/index.js';

export type ExportFormat = 'jsonl' | 'csv';

/** The exported columns. IPs stay encrypted (ip) with their blind index; nothing is decrypted. */
export const EXPORT_FIELDS = [
  'seq',
  'id',
  'time',
  'action',
  'outcome',
  'actor',
  'target',
  'requestId',
  'ip',
  'ipIndex',
  'ipKey',
  'userAgent',
  'details',
  'prevHash',
  'hash',
] as const;
type ExportRow = Record<(typeof EXPORT_FIELDS)[number], unknown>;

/** Writes the entries at or after `since`, in (time, _id) order, one line per entry. */
export async function exportEntries(db: Db, since: Date, format: ExportFormat, write: (line: string) => void): Promise<number> {
  if (format === 'csv') write(EXPORT_FIELDS.join(','));
  let count = 0;
  const cursor = db
    .collection(COLLECTIONS.audit)
    .find({ time: { $gte: since } })
    .sort({ time: 1, _id: 1 });
  for await (const raw of cursor) {
    const row = toRow(raw);
    write(format === 'jsonl' ? JSON.stringify(row) : EXPORT_FIELDS.map((field) => csvCell(row[field])).join(','));
    count += 1;
  }
  return count;
}

/** Only the known fields, so nothing else stored beside an entry can leave with it. */
function toRow(raw: Record<string, unknown>): ExportRow {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    seq: typeof raw.seq === 'number' ? raw.seq : null,
    id: String(raw._id),
    time: raw.time instanceof Date ? raw.time.toISOString() : null,
    action: text(raw.action),
    outcome: text(raw.outcome),
    actor: text(raw.actor),
    target: text(raw.target),
    requestId: text(raw.requestId),
    ip: text(raw.ip),
    ipIndex: text(raw.ipIndex),
    ipKey: text(raw.ipKey),
    userAgent: text(raw.userAgent),
    details: raw.details && typeof raw.details === 'object' ? raw.details : {},
    prevHash: text(raw.prevHash),
    hash: text(raw.hash),
  };
}

/** RFC 4180 quoting, and a leading quote on cells a spreadsheet would run as a formula. */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
