/**
 * `npm install` when node_modules is missing or older than the lockfile: the first step of
 * `npm start`, `npm test`, `npm run bench` and `npm run soak`, so each works from a clean clone.
 *
 * npm writes node_modules/.package-lock.json last, so it is older than the lockfile exactly when
 * the lockfile changed since the last install. `npm install`, not `npm ci`: the npm 11 of this
 * machine kind writes lockfiles without other platforms' optional packages and then its own
 * `npm ci` refuses them. The lockfile's versions are still the ones installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** @param {(line: string) => void} say progress line; throws when npm fails. */
export function installIfStale(say) {
  const lock = join(root, 'package-lock.json');
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return;
  say('npm install …');
  const { status } = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (status !== 0) throw new Error(`npm install failed (exit ${status})`);
}
