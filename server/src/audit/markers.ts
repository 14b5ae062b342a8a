import type { Collection, Db } from 'mongodb';
import { COLLECTIONS } from '../store/index.js';
import { markerMac } from './chain.js';

/**
 * The chain's bookkeeping in the `system` collection: the head watermark
 * (last seq sealed, so a truncated tail shows) and the prune checkpoint (seq and hash of the
 * last pruned entry, so verification starts from the retained start). Head and checkpoint
 * carry a MAC under the chain key: without MASTER_KEY they can't be forged, only rolled back
 * to an earlier genuine value.
 */
export interface ChainMarker {
  seq: number;
  hash: string;
}

interface SystemDoc {
  _id: string;
  holder?: string;
  expiresAt?: Date;
  seq?: number;
  hash?: string;
  mac?: string;
  at?: Date;
}

/** The Redis key of the sealer's lease (see AuditSealer.takeLease). */
export const LEASE_ID = 'audit-sealer';
const HEAD_ID = 'audit-head';
const CHECKPOINT_ID = 'audit-checkpoint';

export class ChainMarkers {
  readonly system: Collection<SystemDoc>;

  constructor(
    db: Db,
    private readonly key: Buffer,
  ) {
    this.system = db.collection<SystemDoc>(COLLECTIONS.system);
  }

  /** The head watermark; `null` when absent, `'forged'` when its MAC doesn't fit. */
  head(): Promise<ChainMarker | null | 'forged'> {
    return this.read(HEAD_ID, 'head');
  }

  checkpoint(): Promise<ChainMarker | null | 'forged'> {
    return this.read(CHECKPOINT_ID, 'checkpoint');
  }

  /** Moves the head forward only (a late, slower sealer never moves it back). */
  async advanceHead(marker: ChainMarker, at: Date): Promise<void> {
    const doc = { seq: marker.seq, hash: marker.hash, mac: markerMac(this.key, 'head', marker.seq, marker.hash), at };
    const result = await this.system.updateOne({ _id: HEAD_ID, seq: { $lt: marker.seq } }, { $set: doc });
    if (result.matchedCount === 0) await this.system.insertOne({ _id: HEAD_ID, ...doc }).catch(() => undefined);
  }

  async writeCheckpoint(marker: ChainMarker, at: Date): Promise<void> {
    const doc = { seq: marker.seq, hash: marker.hash, mac: markerMac(this.key, 'checkpoint', marker.seq, marker.hash), at };
    await this.system.updateOne({ _id: CHECKPOINT_ID }, { $set: doc }, { upsert: true });
  }

  private async read(id: string, kind: 'head' | 'checkpoint'): Promise<ChainMarker | null | 'forged'> {
    const doc = await this.system.findOne({ _id: id });
    if (!doc) return null;
    if (typeof doc.seq !== 'number' || typeof doc.hash !== 'string' || doc.mac !== markerMac(this.key, kind, doc.seq, doc.hash))
      return 'forged';
    return { seq: doc.seq, hash: doc.hash };
  }
}
