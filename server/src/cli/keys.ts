import { readFileSync } from 'node:fs';
import type { AuditLog } from '../audit/index.js';
import type { Deps } from '../context.js';
import { createKey, importKey, KeyStore } from '../tokens/index.js';
import { announceKeysChanged } from '../tokens/invalidation.js';

export interface KeyCommandResult {
  lines: string[];
}

/**
 * `gatehouse keys …`: operators manage the signing keyring from a shell. Every change is
 * audited as actor `cli` and announced so running instances reload the ring at once.
 */
export async function runKeysCommand(
  deps: Deps,
  audit: AuditLog,
  args: string[],
  longestTokenLifetimeMs: number,
): Promise<KeyCommandResult> {
  if (deps.config.secretKey) throw new Error('SECRET_KEY is set: the keyring is replaced by one static key, rotation is disabled');
  const store = new KeyStore(deps.db, deps.config.masterKey);
  const [command, argument] = args;
  switch (command) {
    case 'list': {
      const keys = await store.all();
      return {
        lines: keys.map(
          (key) =>
            `${key._id}\t${key.alg}\t${key.state}\tcreated ${key.createdAt.toISOString()}${key.retiredAt ? `\tretired ${key.retiredAt.toISOString()}` : ''}`,
        ),
      };
    }
    case 'rotate': {
      const kid = await createKey(store, deps.clock);
      await audit.record({ action: 'key.rotated', outcome: 'success', actor: 'cli', target: `key:${kid}` });
      await announceKeysChanged(deps);
      return { lines: [`new active key ${kid}; the previous key stays trusted until pruned`] };
    }
    case 'prune': {
      const cutoff = new Date(deps.clock.now().getTime() - longestTokenLifetimeMs);
      const kids = await store.pruneRetiredBefore(cutoff);
      for (const kid of kids) await audit.record({ action: 'key.pruned', outcome: 'success', actor: 'cli', target: `key:${kid}` });
      if (kids.length) await announceKeysChanged(deps);
      return { lines: kids.length ? kids.map((kid) => `pruned ${kid}`) : [`nothing to prune (retired before ${cutoff.toISOString()})`] };
    }
    case 'import': {
      if (!argument) throw new Error('usage: gatehouse keys import <file.pem|file.jwk.json>');
      const kid = await importKey(store, readFileSync(argument, 'utf8'), deps.clock);
      await audit.record({ action: 'key.imported', outcome: 'success', actor: 'cli', target: `key:${kid}` });
      await announceKeysChanged(deps);
      return { lines: [`imported ${kid} as the active key`] };
    }
    default:
      throw new Error('usage: gatehouse keys list|rotate|prune|import <file>');
  }
}
