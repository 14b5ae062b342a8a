import type { UserStatus } from '@gatehouse/shared';
import type { Redis } from 'ioredis';

/** The keys one revocation check reads, and the once-key it claims (see revocation.ts). */
export interface FactsKeys {
  user: string;
  deny: string;
  session: string;
  /** A key to claim with SET NX for `ttlSeconds`, when the check has one. */
  once: { key: string; ttlSeconds: number } | undefined;
}

/** What one check found: whether the epoch is there, the user's mirror, and three yes/no facts. */
export interface FactsReply {
  epoch: boolean;
  /**
   * Null when the user is not mirrored (either field missing). The status is what the mirror
   * holds, unchecked: only `active` lets a token through (revocation.ts), so anything else fails
   * closed; a tokenVersion that is not a number never matches a token's.
   */
  user: { tokenVersion: number; status: UserStatus } | null;
  denied: boolean;
  sessionRevoked: boolean;
  claimed: boolean;
}

/**
 * Every fact of every check in the batch, and each once-key claimed, in one script. KEYS[1] is the
 * epoch; then each check's user mirror, jti denylist entry and revoked-session marker, and its
 * once-key when ARGV[i], the once-key's TTL, is not empty. A script runs atomically, so each check
 * sees what one check alone would have seen at that instant (the epoch is read once for all), and
 * two checks claiming the same once-key in one batch still find it taken the second time. All
 * keys share the prefix, a hash tag on a Cluster, so they live in one slot (store/redis.ts).
 *
 * The answer is one string, not a nested array: a line for the epoch (1 or 0), then one line
 * per check, `tokenVersion status DSC` with D, S and C each 1 or 0 (denied, session revoked,
 * once-key claimed). ioredis converts every element of an array answer on its own; one string
 * is one conversion (docs/benchmarks.md, "What each change bought").
 */
const FACTS_SCRIPT = `
local lines = { tostring(redis.call('EXISTS', KEYS[1])) }
local k = 2
for i = 1, #ARGV do
  local user = redis.call('HMGET', KEYS[k], 'tokenVersion', 'status')
  local claimed = 0
  local following = k + 3
  if ARGV[i] ~= '' then
    if redis.call('SET', KEYS[k + 3], '1', 'EX', ARGV[i], 'NX') then claimed = 1 end
    following = k + 4
  end
  lines[i + 1] = (user[1] or '') .. ' ' .. (user[2] or '') .. ' ' .. redis.call('EXISTS', KEYS[k + 1]) .. redis.call('EXISTS', KEYS[k + 2]) .. claimed
  k = following
end
return table.concat(lines, '\\n')
`;
const FACTS_COMMAND = 'gatehouseRevocationFacts';
/** Checks per script call: enough for any burst one turn of the event loop brings, short for Redis. */
export const MAX_CHECKS_PER_CALL = 64;

type FactsCommand = (numberOfKeys: number, ...keysThenTtls: string[]) => Promise<string>;
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

  constructor(
    redis: Redis,
    /** The key whose absence means Redis lost its data (revocation.ts). */
    private readonly epochKey: string,
  ) {
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
    const keys = [this.epochKey];
    const ttls: string[] = [];
    for (const { keys: k } of batch) {
      keys.push(k.user, k.deny, k.session);
      if (k.once) keys.push(k.once.key);
      ttls.push(k.once ? String(k.once.ttlSeconds) : '');
    }
    try {
      const replies = parseReply(await this.command(keys.length, ...keys, ...ttls), batch.length);
      for (const [index, check] of batch.entries()) check.resolve(replies[index] as FactsReply);
      return null;
    } catch (error) {
      for (const check of batch) check.reject(error);
      return { error };
    }
  }
}

/**
 * The script's answer, checked line by line: anything but the expected shape fails the whole call
 * (exported for its test).
 */
export function parseReply(reply: unknown, checks: number): FactsReply[] {
  const lines = typeof reply === 'string' ? reply.split('\n') : [];
  const epochLine = lines[0];
  if (lines.length !== checks + 1 || (epochLine !== '1' && epochLine !== '0')) throw unexpectedReply();
  const epoch = epochLine === '1';
  const replies: FactsReply[] = [];
  for (let i = 1; i <= checks; i++) {
    // `tokenVersion status DSC`: two spaces, then exactly three flags, each 0 or 1.
    const line = lines[i] as string;
    const first = line.indexOf(' ');
    const second = line.indexOf(' ', first + 1);
    if (first < 0 || second < 0 || line.length !== second + 4) throw unexpectedReply();
    const denied = flag(line, second + 1);
    const sessionRevoked = flag(line, second + 2);
    const claimed = flag(line, second + 3);
    const user =
      first > 0 && second > first + 1
        ? { tokenVersion: Number(line.slice(0, first)), status: line.slice(first + 1, second) as UserStatus }
        : null;
    replies.push({ epoch, user, denied, sessionRevoked, claimed });
  }
  return replies;
}

/** The flag at `at`: '1' or '0', anything else fails the call. */
function flag(line: string, at: number): boolean {
  const code = line.charCodeAt(at);
  if (code !== 0x30 && code !== 0x31) throw unexpectedReply();
  return code === 0x31;
}

function unexpectedReply(): Error {
  return new Error('revocation facts: unexpected reply');
}
