import type { Collection } from 'mongodb';
import type { Deps } from '../context.js';
import { randomId } from '../crypto/index.js';
import { COLLECTIONS } from '../store/index.js';
import { deriveChainKey, GENESIS_HASH, sealedEntrySchema, sealHash } from './chain.js';
import { type ChainMarker, ChainMarkers, LEASE_ID } from './markers.js';
import type { AuditEntry } from './service.js';

const LEASE_MS = 30_000;
const BATCH = 200;

type StoredEntry = AuditEntry & { seq?: number; prevHash?: string; hash?: string };

/**
 * Seals unsealed entries into the hash chain, in (time, _id) order, with a gap-free `seq`.
 * Writers on any instance only insert; one sealer at a time across instances holds an
 * expiring lease in Redis (see takeLease for why not in MongoDB), and each
 * entry's seal is an update guarded by `seq` not existing, backed by a unique index on `seq`,
 * so a sealer that lost its lease can't fork the chain.
 */
export class AuditSealer {
  private readonly entries: Collection<StoredEntry>;
  private readonly markers: ChainMarkers;
  private readonly key: Buffer;
  private readonly holder = randomId();

  constructor(private readonly deps: Deps) {
    this.entries = deps.db.collection<StoredEntry>(COLLECTIONS.audit);
    this.key = deriveChainKey(deps.config.masterKey);
    this.markers = new ChainMarkers(deps.db, this.key);
  }

  /** Seals everything pending; returns how many entries this call sealed (0 if another instance holds the lease). */
  async sealPending(): Promise<number> {
    if (!(await this.takeLease())) return 0;
    let sealed = 0;
    try {
      let head = await this.currentHead();
      for (;;) {
        const batch = await this.entries
          .find({ seq: { $exists: false }, unsealable: { $exists: false } } as never)
          .sort({ time: 1, _id: 1 })
          .limit(BATCH)
          .toArray();
        for (const raw of batch) {
          const next = await this.sealOne(raw, head);
          if (!next) return sealed;
          head = next;
          sealed += 1;
        }
        if (batch.length > 0) await this.markers.advanceHead(head, this.deps.clock.now());
        if (batch.length < BATCH || !(await this.takeLease())) return sealed;
      }
    } finally {
      await this.releaseLease();
    }
  }

  /** Runs sealPending every `intervalMs` on an unref'd timer; returns the stop function. */
  start(intervalMs: number): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.sealPending()
        .then(() => this.deps.metrics?.sealed())
        .catch((error: unknown) => this.deps.log.warn({ err: { message: (error as Error).message } }, 'audit.seal_failed'))
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async sealOne(raw: StoredEntry, head: ChainMarker): Promise<ChainMarker | null> {
    const seq = head.seq + 1;
    const parsed = sealedEntrySchema.omit({ hash: true, prevHash: true }).safeParse({ ...raw, seq });
    if (!parsed.success) {
      // An unsealed entry that isn't one the writer could have made: leave it out of the chain, loudly.
      this.deps.log.error({ id: raw._id }, 'audit.unsealable_entry');
      await this.entries.updateOne({ _id: raw._id, seq: { $exists: false } }, { $set: { unsealable: true } as never });
      return head;
    }
    const hash = sealHash(this.key, head.hash, parsed.data);
    try {
      const result = await this.entries.updateOne({ _id: raw._id, seq: { $exists: false } }, { $set: { seq, prevHash: head.hash, hash } });
      return result.modifiedCount === 1 ? { seq, hash } : null;
    } catch {
      return null; // the unique index refused the seq: another sealer got there first
    }
  }

  /** The last sealed entry, or the prune checkpoint, or the genesis. */
  private async currentHead(): Promise<ChainMarker> {
    const last = await this.entries
      .find({ seq: { $exists: true } })
      .sort({ seq: -1 })
      .limit(1)
      .next();
    if (last?.seq !== undefined && last.hash) return { seq: last.seq, hash: last.hash };
    const checkpoint = await this.markers.checkpoint();
    if (checkpoint && checkpoint !== 'forged') return checkpoint;
    return { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * The lease lives in Redis (SET NX PX, renewed by its holder with a compare-and-set script),
   * not in MongoDB: FerretDB v1 does not make a guarded update atomic under concurrency
   * (measured: several of 20 concurrent guarded updates of one document all "win"), so a lease
   * document could be held twice. Without Redis nothing is sealed until it is back; entries
   * simply wait. The unique index on `seq` still keeps the chain from forking whatever happens.
   */
  private async takeLease(): Promise<boolean> {
    try {
      const result = await this.deps.redis.eval(TAKE_LEASE, 1, LEASE_ID, this.holder, String(LEASE_MS));
      return result === 1;
    } catch {
      return false;
    }
  }

  private async releaseLease(): Promise<void> {
    await this.deps.redis.eval(RELEASE_LEASE, 1, LEASE_ID, this.holder).catch(() => undefined);
  }
}

/** Takes the lease if free, or renews it if this holder has it; 1 when held afterwards. */
const TAKE_LEASE = `
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

/** Releases the lease only if this holder still has it. */
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
