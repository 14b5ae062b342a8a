import { createHmac } from 'node:crypto';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES } from '@gatehouse/shared';
import { z } from 'zod';
import { deriveKey } from '../crypto/index.js';

/** The `prevHash` of the first entry ever sealed. */
export const GENESIS_HASH = '0'.repeat(64);

/** The chain key: derived from MASTER_KEY, so database access alone cannot re-forge the chain. */
export function deriveChainKey(masterKey: Buffer): Buffer {
  return deriveKey(masterKey, 'audit-chain');
}

const detailValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

/** A sealed entry as read back from MongoDB (STYLE 7: storage is a trust boundary too). */
export const sealedEntrySchema = z.object({
  _id: z.string(),
  seq: z.number().int().min(1),
  time: z.date(),
  action: z.enum(AUDIT_ACTIONS),
  outcome: z.enum(AUDIT_OUTCOMES),
  actor: z.string(),
  target: z.string().nullable(),
  requestId: z.string().nullable(),
  ip: z.string().nullable(),
  ipIndex: z.string().nullable(),
  ipKey: z.string().nullable(),
  userAgent: z.string().nullable(),
  details: z.record(z.string(), detailValue),
  prevHash: z.string(),
  hash: z.string(),
});
export type SealedEntry = z.infer<typeof sealedEntrySchema>;

/** The fields a seal covers: everything but the seal itself (`prevHash` is chained separately). */
type SealedFields = Omit<SealedEntry, 'hash' | 'prevHash'>;

/** JSON with object keys sorted at every depth, so the same entry always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** hash = HMAC-SHA256(key, prevHash || canonical JSON of the sealed fields, seq included). */
export function sealHash(key: Buffer, prevHash: string, entry: SealedFields): string {
  const fields: SealedFields = {
    _id: entry._id,
    seq: entry.seq,
    time: entry.time,
    action: entry.action,
    outcome: entry.outcome,
    actor: entry.actor,
    target: entry.target,
    requestId: entry.requestId,
    ip: entry.ip,
    ipIndex: entry.ipIndex,
    ipKey: entry.ipKey,
    userAgent: entry.userAgent,
    details: entry.details,
  };
  return createHmac('sha256', key).update(prevHash).update(canonicalJson(fields)).digest('hex');
}

/** The MAC of a checkpoint or head document, so it cannot be written without the key either. */
export function markerMac(key: Buffer, kind: 'checkpoint' | 'head', seq: number, hash: string): string {
  return createHmac('sha256', key).update(`${kind}:${seq}:${hash}`).digest('hex');
}
