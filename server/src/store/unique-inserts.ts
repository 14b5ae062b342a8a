import { type Collection, MongoBulkWriteError, type OptionalUnlessRequiredId, type WriteError } from 'mongodb';
import { type AppError, isDuplicateKey, storeError } from '../errors/index.js';

/** Documents per insertMany: far below MongoDB's 100,000 writes and 48 MB per message. */
const MAX_GROUP = 100;

interface Waiting<T> {
  document: OptionalUnlessRequiredId<T>;
  resolve: (inserted: boolean) => void;
  reject: (error: AppError) => void;
}

/**
 * Unique inserts into one collection, committed in groups: inserts that arrive while one group
 * is with the store wait for it, then go together as one unordered insertMany. Each caller
 * still learns only its own outcome — true, or false when a unique index already holds its
 * key — as its own insertOne would tell it: the unique index decides per document, also
 * between two documents of one group. Nothing waits on a timer: a lone insert goes at once,
 * and under load a group costs the store one command and one transaction instead of one per
 * document (docs/benchmarks.md, "Group commit").
 */
export class UniqueInserts<T extends { _id: string }> {
  private waiting: Waiting<T>[] = [];
  private sending = false;

  constructor(private readonly collection: Collection<T>) {}

  /** Inserts `document`: false when a unique index already holds one of its keys. */
  insert(document: OptionalUnlessRequiredId<T>): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ document, resolve, reject });
      if (!this.sending) void this.send();
    });
  }

  private async send(): Promise<void> {
    this.sending = true;
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, MAX_GROUP);
      try {
        await this.insertGroup(group);
      } catch (error) {
        // Never a caller left waiting: whoever is not answered yet fails (a settled promise ignores this).
        for (const waiting of group) waiting.reject(storeError(error));
      }
    }
    this.sending = false;
  }

  private async insertGroup(group: Waiting<T>[]): Promise<void> {
    try {
      await this.collection.insertMany(
        group.map((waiting) => waiting.document),
        { ordered: false },
      );
      for (const waiting of group) waiting.resolve(true);
    } catch (error) {
      const refused = new Map<number, WriteError>();
      if (error instanceof MongoBulkWriteError)
        for (const writeError of [error.writeErrors].flat()) refused.set(writeError.index, writeError);
      // Only an answer for every document counts: the driver also reports a closed connection
      // or an unacknowledged write as a MongoBulkWriteError, with no per-document error at all.
      // Then every caller fails, as its own insertOne would have, and none is told it won.
      const answered =
        error instanceof MongoBulkWriteError && !error.writeConcernError && error.insertedCount + refused.size === group.length;
      if (!answered) {
        const failure = storeError(error);
        for (const waiting of group) waiting.reject(failure);
        return;
      }
      group.forEach((waiting, index) => {
        const writeError = refused.get(index);
        if (!writeError) waiting.resolve(true);
        else if (isDuplicateKey(writeError)) waiting.resolve(false);
        // Code and message only: the WriteError also carries the document, which stays out of logs.
        else waiting.reject(storeError(new Error(`insert refused (code ${writeError.code}): ${writeError.errmsg}`)));
      });
    }
  }
}
