import { readFileSync } from 'node:fs';
import type { AuditLog } from '../audit/index.js';
import type { Deps } from '../context.js';
import { KeyAdmin } from '../tokens/index.js';

export interface KeyCommandResult {
  lines: string[];
}

/**
 * `gatehouse keys …`: operators manage the signing keyring from a shell, through the same
 * KeyAdmin as the console, audited as actor `cli` and announced so running instances reload.
 */
export async function runKeysCommand(deps: Deps, audit: AuditLog, args: string[], longestLifetimeMs?: number): Promise<KeyCommandResult> {
  if (deps.config.secretKey) throw new Error('SECRET_KEY is set: the keyring is replaced by one static key, rotation is disabled');
  const keys = new KeyAdmin(deps, audit, null, longestLifetimeMs);
  const [command, argument] = args;
  switch (command) {
    case 'list':
      return {
        lines: (await keys.list()).map(
          (key) => `${key.kid}\t${key.alg}\t${key.state}\tcreated ${key.createdAt}${key.retiredAt ? `\tretired ${key.retiredAt}` : ''}`,
        ),
      };
    case 'rotate': {
      const kid = await keys.rotate('cli');
      return { lines: [`new active key ${kid}; the previous key stays trusted until pruned`] };
    }
    case 'prune': {
      const kids = await keys.prune('cli');
      return {
        lines: kids.length ? kids.map((kid) => `pruned ${kid}`) : [`nothing to prune (retired before ${keys.pruneCutoff().toISOString()})`],
      };
    }
    case 'import': {
      if (!argument) throw new Error('usage: gatehouse keys import <file.pem|file.jwk.json>');
      const kid = await keys.import('cli', readFileSync(argument, 'utf8'));
      return { lines: [`imported ${kid} as the active key`] };
    }
    default:
      throw new Error('usage: gatehouse keys list|rotate|prune|import <file>');
  }
}
