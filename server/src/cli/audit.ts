import { parseArgs } from 'node:util';
import { AuditSealer, deriveChainKey, type ExportFormat, exportEntries, pruneSealed, verifyChain } from '../audit/index.js';
import type { Deps } from '../context.js';

export interface AuditCommandResult {
  lines: string[];
  /** 1 when `verify` found the chain broken. */
  code: number;
}

const DAY_MS = 24 * 60 * 60_000;

/**
 * `gatehouse audit …`: seal, verify, export and prune the audit trail. Export writes through
 * `write` line by line (it can be long); IPs stay encrypted, nothing is decrypted.
 */
export async function runAuditCommand(deps: Deps, args: string[], write: (line: string) => void): Promise<AuditCommandResult> {
  const [command, ...rest] = args;
  const key = deriveChainKey(deps.config.masterKey);
  switch (command) {
    case 'seal': {
      const sealed = await new AuditSealer(deps).sealPending();
      return { lines: [`sealed ${sealed} entries`], code: 0 };
    }
    case 'verify': {
      // Seal first, so entries written moments ago are covered too.
      await new AuditSealer(deps).sealPending();
      const result = await verifyChain(deps.db, key);
      const range = `seq ${result.from}..${result.to}, ${result.checked} entries`;
      if (result.intact) return { lines: [`audit chain intact (${range})`], code: 0 };
      return { lines: [`audit chain BROKEN (${range}):`, ...result.findings.map((f) => `  ${f.kind}\t${f.message}`)], code: 1 };
    }
    case 'export': {
      const { values } = parseArgs({ args: rest, options: { since: { type: 'string' }, format: { type: 'string', default: 'jsonl' } } });
      const since = new Date(values.since ?? '');
      if (!values.since || Number.isNaN(since.getTime())) throw new Error('audit export needs --since <ISO date>');
      if (values.format !== 'jsonl' && values.format !== 'csv') throw new Error('audit export --format must be jsonl or csv');
      await exportEntries(deps.db, since, values.format as ExportFormat, write);
      return { lines: [], code: 0 };
    }
    case 'prune': {
      await new AuditSealer(deps).sealPending();
      const now = deps.clock.now();
      const cutoff = new Date(now.getTime() - deps.config.AUDIT_RETENTION_DAYS * DAY_MS);
      const { pruned, checkpoint } = await pruneSealed(deps.db, key, cutoff, now);
      const where = checkpoint ? `; the chain now starts after seq ${checkpoint.seq}` : '';
      return { lines: [`pruned ${pruned} entries older than ${cutoff.toISOString()}${where}`], code: 0 };
    }
    default:
      throw new Error('usage: gatehouse audit seal|verify|export --since <date> [--format jsonl|csv]|prune');
  }
}
