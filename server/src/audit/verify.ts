import type { Db } from 'mongodb';
import { COLLECTIONS } from '../store/index.js';
import { GENESIS_HASH, type SealedEntry, sealedEntrySchema, sealHash } from './chain.js';
import { type ChainMarker, ChainMarkers } from './markers.js';

export type FindingKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'marker';

/** One thing wrong with the chain, naming the seq (and the entry's _id when there is one). */
export interface Finding {
  kind: FindingKind;
  seq: number;
  id: string | null;
  message: string;
}

export interface VerifyResult {
  intact: boolean;
  /** First and last seq checked (the retained start is the checkpoint's seq + 1). */
  from: number;
  to: number;
  checked: number;
  findings: Finding[];
}

/** Reordering is looked for among at most this many misplaced entries (each try is one HMAC per candidate seq). */
const MAX_REORDER_CANDIDATES = 200;

/**
 * Recomputes the chain over the sealed entries by seq. An entry whose seal fits its own seq
 * and links to the entry before it is intact; otherwise the finding says why:
 *  - deleted: a seq between the retained start and the head watermark has no entry;
 *  - reordered: the entry's seal fits another seq (its seq was changed);
 *  - modified: the entry sits where its seal says (its predecessor's hash before it, its own
 *    hash named by its successor or the head) but its content no longer fits the seal;
 *  - inserted: a second entry with the same seq, or an entry whose seal fits nothing.
 */
export async function verifyChain(db: Db, key: Buffer): Promise<VerifyResult> {
  const markers = new ChainMarkers(db, key);
  const findings: Finding[] = [];
  const checkpoint = await markers.checkpoint();
  const head = await markers.head();
  if (checkpoint === 'forged')
    findings.push({ kind: 'marker', seq: 0, id: null, message: 'the prune checkpoint does not carry a valid MAC' });
  if (head === 'forged') findings.push({ kind: 'marker', seq: 0, id: null, message: 'the head watermark does not carry a valid MAC' });
  const start: ChainMarker = checkpoint && checkpoint !== 'forged' ? checkpoint : { seq: 0, hash: GENESIS_HASH };

  const bySeq = new Map<number, SealedEntry[]>();
  let checked = 0;
  let maxSeq = start.seq;
  const cursor = db
    .collection(COLLECTIONS.audit)
    .find({ seq: { $gt: start.seq } })
    .sort({ seq: 1, _id: 1 });
  for await (const raw of cursor) {
    checked += 1;
    const parsed = sealedEntrySchema.safeParse(raw);
    const seq = typeof raw.seq === 'number' ? raw.seq : Number.NaN;
    if (!parsed.success) {
      findings.push({
        kind: 'modified',
        seq,
        id: String(raw._id),
        message: `seq ${seq} (${String(raw._id)}) is malformed: ${parsed.error.issues[0]?.path.join('.')}`,
      });
      continue;
    }
    maxSeq = Math.max(maxSeq, parsed.data.seq);
    const list = bySeq.get(parsed.data.seq) ?? [];
    list.push(parsed.data);
    bySeq.set(parsed.data.seq, list);
  }
  const to = Math.max(maxSeq, head && head !== 'forged' ? head.seq : 0);

  const fits = (entry: SealedEntry, seq: number) => sealHash(key, entry.prevHash, { ...entry, seq }) === entry.hash;
  // Entries that don't fit their own seq; the seqs they (and gaps) leave are candidates for reordering.
  const misfits: SealedEntry[] = [];
  const good = new Map<number, SealedEntry>();
  for (let seq = start.seq + 1; seq <= to; seq += 1) {
    const list = bySeq.get(seq);
    if (!list) continue;
    const fitting = list.find((entry) => fits(entry, seq));
    if (fitting) good.set(seq, fitting);
    for (const entry of list) if (entry !== fitting) misfits.push(entry);
  }
  const candidates = [...new Set([...misfits.map((entry) => entry.seq), ...gapSeqs(bySeq, start.seq + 1, to)])].slice(
    0,
    MAX_REORDER_CANDIDATES,
  );
  const reordered = new Set<number>();
  for (const entry of misfits) {
    const original = candidates.find((seq) => seq !== entry.seq && fits(entry, seq));
    const name = `seq ${entry.seq} (${entry._id})`;
    if (original !== undefined) {
      reordered.add(original);
      findings.push({ kind: 'reordered', seq: entry.seq, id: entry._id, message: `${name} was sealed as seq ${original}` });
    } else if (good.has(entry.seq)) {
      findings.push({ kind: 'inserted', seq: entry.seq, id: entry._id, message: `${name} duplicates seq ${entry.seq} and fits no seal` });
    } else if (linksBack(bySeq, start, entry) && isReferenced(bySeq, head, entry)) {
      findings.push({ kind: 'modified', seq: entry.seq, id: entry._id, message: `${name} was modified after sealing` });
    } else {
      findings.push({
        kind: 'inserted',
        seq: entry.seq,
        id: entry._id,
        message: `${name} does not fit the chain (its hash was not made with the chain key)`,
      });
    }
  }
  for (const seq of gapSeqs(bySeq, start.seq + 1, to)) {
    if (reordered.has(seq)) continue;
    findings.push({ kind: 'deleted', seq, id: null, message: `seq ${seq} is missing (deleted)` });
  }
  // Links between intact neighbours: a break here means entries were removed and the rest renumbered and re-sealed, which needs the key.
  for (const [seq, entry] of good) {
    const before = seq === start.seq + 1 ? start.hash : good.get(seq - 1)?.hash;
    if (before !== undefined && entry.prevHash !== before) {
      findings.push({ kind: 'inserted', seq, id: entry._id, message: `seq ${seq} (${entry._id}) does not link to seq ${seq - 1}` });
    }
  }
  findings.sort((x, y) => x.seq - y.seq);
  return { intact: findings.length === 0, from: start.seq + 1, to, checked, findings };
}

function gapSeqs(bySeq: Map<number, unknown>, from: number, to: number): number[] {
  const gaps: number[] = [];
  for (let seq = from; seq <= to; seq += 1) if (!bySeq.has(seq)) gaps.push(seq);
  return gaps;
}

/** Whether the entry's prevHash is the stored hash of an entry at the seq before it (or the retained start). */
function linksBack(bySeq: Map<number, SealedEntry[]>, start: ChainMarker, entry: SealedEntry): boolean {
  if (entry.seq === start.seq + 1) return entry.prevHash === start.hash;
  return (bySeq.get(entry.seq - 1) ?? []).some((before) => before.hash === entry.prevHash);
}

/** Whether the entry's stored hash is what the next entry (or the head watermark) chained onto. */
function isReferenced(bySeq: Map<number, SealedEntry[]>, head: ChainMarker | null | 'forged', entry: SealedEntry): boolean {
  if (head && head !== 'forged' && head.seq === entry.seq) return head.hash === entry.hash;
  return (bySeq.get(entry.seq + 1) ?? []).some((after) => after.prevHash === entry.hash);
}
