import type { Redis } from 'ioredis';

/** The keys one revocation check reads, and the once-key it claims (see revocation.ts). */
export interface FactsKeys {
  epoch: string;
  user: string;
  deny: string;
  session: string;
  once: string;
  /** The once-key's TTL in seconds; empty when there is nothing to claim. */
  onceTtl: string;
}

/** epoch, tokenVersion, status, denied (0/1), session revoked (0/1), once-key claimed (0/1). */
export type FactsReply = [string | null, string | null, string | null, number, number, number];

/**
 * Every fact of every check in the batch, and each once-key claimed, in one script. KEYS come in
 * groups of five per check (epoch, user mirror, jti denylist entry, revoked-session marker,
 * once-key); ARGV[i] is check i's once-key TTL, empty when it has none to claim. A script runs
 * atomically, so each check sees what one check alone would have seen at that instant, and two
 * checks claiming the same once-key in one batch still find it taken the second time. All keys
 * share the prefix, a hash tag on a Cluster, so they live in one slot (store/redis.ts).
 */
const FACTS_SCRIPT = `
local replies = {}
for i = 1, #ARGV do
  local k = (i - 1) * 5
  local user = redis.call('HMGET', KEYS[k + 2], 'tokenVersion', 'status')
  local claimed = 0
  if ARGV[i] ~= '' and redis.call('SET', KEYS[k + 5], '1', 'EX', ARGV[i], 'NX') then claimed = 1 end
  replies[i] = { redis.call('GET', KEYS[k + 1]), user[1], user[2], redis.call('EXISTS', KEYS[k + 3]), redis.call('EXISTS', KEYS[k + 4]), claimed }
end
return replies
`;
const FACTS_COMMAND = 'gatehouseRevocationFacts';
/** Checks per script call: enough for any burst one turn of the event loop brings, short for Redis. */
export const MAX_CHECKS_PER_CALL = 64;

type FactsCommand = (numberOfKeys: number, ...keysThenTtls: string[]) => Promise<FactsReply[]>;
/** How a call failed, passed on to the checks that waited for it. */
interface Failure {
  error: unknown;
}
interface Pending {
  keys: FactsKeys;
  resolve: (reply: FactsReply) => void;
  reject: (error: unknown) => void;
}

/**
 * Reads revocation facts for every check that asks during one turn of the event loop with one
 * script call (docs/benchmarks.md): under load, the requests one poll of the sockets brings all
 * reach their check before the loop turns, and one command instead of one each saves the
 * command's cost in ioredis, a loopback write that wakes Redis, and Redis's own per-command work.
 *
 * One call is out at a time: checks that ask while it is out wait for its answer and go together
 * at the end of the turn in which it arrives. Under load the calls then carry what arrived during a round trip, not
 * during one turn (about 15 checks instead of 10 at the bearer check's peak), and an idle server
 * sends a lone check at the end of its turn, as before. A check never reads anything older than it
 * would have alone: the call that carries it is sent after it asked. A failed call fails every
 * check in it and every check that waited for it, and each falls back as it would alone.
 */
export class RevocationFactsReader {
  private readonly command: FactsCommand;
  private pending: Pending[] = [];
  /**
   * A call is out: checks asking now wait for its answer instead of scheduling a call. Every
   * command times out (`commandTimeout`, store/redis.ts), so a call that is out always ends.
   */
  private sending = false;

  constructor(redis: Redis) {
    redis.defineCommand(FACTS_COMMAND, { lua: FACTS_SCRIPT });
    this.command = ((redis as unknown as Record<string, FactsCommand>)[FACTS_COMMAND] as FactsCommand).bind(redis);
  }

  read(keys: FactsKeys): Promise<FactsReply> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0 && !this.sending) setImmediate(() => this.flush());
      this.pending.push({ keys, resolve, reject });
    });
  }

  private flush(): void {
    const pending = this.pending;
    this.pending = [];
    const calls: Promise<Failure | null>[] = [];
    for (let start = 0; start < pending.length; start += MAX_CHECKS_PER_CALL) {
      calls.push(this.send(pending.slice(start, start + MAX_CHECKS_PER_CALL)));
    }
    this.sending = true;
    void Promise.all(calls).then((outcomes) => {
      this.sending = false;
      const failure = outcomes.find((outcome) => outcome !== null);
      if (failure) {
        // Redis just failed (a timeout, a dropped connection): the checks that waited for this call
        // fail with it and fall back at once, instead of waiting out a second timeout of their own.
        const waiting = this.pending;
        this.pending = [];
        for (const check of waiting) check.reject(failure.error);
      } else if (this.pending.length > 0) {
        setImmediate(() => this.flush());
      }
    });
  }

  /** Settles every check of the batch; never rejects. */
  private async send(batch: Pending[]): Promise<Failure | null> {
    const keys = batch.flatMap(({ keys: k }) => [k.epoch, k.user, k.deny, k.session, k.once]);
    try {
      const replies = await this.command(keys.length, ...keys, ...batch.map(({ keys: k }) => k.onceTtl));
      if (!Array.isArray(replies) || replies.length !== batch.length) throw new Error('revocation facts: unexpected reply');
      for (const [index, check] of batch.entries()) check.resolve(replies[index] as FactsReply);
      return null;
    } catch (error) {
      for (const check of batch) check.reject(error);
      return { error };
    }
  }
}
