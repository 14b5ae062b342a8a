import type { Db } from 'mongodb';
import { COLLECTIONS } from '../store/index.js';
import { ChainMarkers } from './markers.js';

export interface PruneResult {
  pruned: number;
  /** The checkpoint now in force: verification starts at seq + 1. */
  checkpoint: { seq: number; hash: string } | null;
}

/**
 * Deletes sealed entries older than `cutoff`, as a prefix of the chain: everything below the
 * first sealed entry that is still young enough (a late writer's older entry sealed after a
 * younger one waits for that one). The checkpoint (seq and hash of the last pruned entry) is
 * written before anything is deleted, and verification ignores entries at or below it, so a
 * prune interrupted half-way still verifies.
 */
export async function pruneSealed(db: Db, key: Buffer, cutoff: Date, now: Date): Promise<PruneResult> {
  const entries = db.collection<{ _id: string; seq?: number; hash?: string; time: Date }>(COLLECTIONS.audit);
  const markers = new ChainMarkers(db, key);
  const existing = await markers.checkpoint();
  if (existing === 'forged') throw new Error('the audit checkpoint does not carry a valid MAC; run `gatehouse audit verify`');
  const firstKept = await entries
    .find({ seq: { $exists: true }, time: { $gte: cutoff } })
    .sort({ seq: 1 })
    .limit(1)
    .next();
  const lastSealed = await entries
    .find({ seq: { $exists: true } })
    .sort({ seq: -1 })
    .limit(1)
    .next();
  if (!lastSealed?.seq) return { pruned: 0, checkpoint: existing };
  const upTo = firstKept?.seq !== undefined ? firstKept.seq - 1 : lastSealed.seq;
  if (upTo <= (existing?.seq ?? 0)) return { pruned: 0, checkpoint: existing };
  const last = await entries.findOne({ seq: upTo });
  if (!last?.hash) throw new Error(`seq ${upTo} is missing; run \`gatehouse audit verify\` before pruning`);
  const checkpoint = { seq: upTo, hash: last.hash };
  await markers.writeCheckpoint(checkpoint, now);
  const { deletedCount } = await entries.deleteMany({ seq: { $lte: upTo } });
  return { pruned: deletedCount, checkpoint };
}
