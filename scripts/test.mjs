#!/usr/bin/env node
/**
 * `npm test`: everything CI runs, in order — install if needed, lint, typecheck, then every
 * test suite (each starts its own throw-away Redis, FerretDB and identity provider). Ends with
 * one plain `N passed, N failed` line that CI reads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (command, args, extra = {}) => {
  process.stdout.write(`\n▶ ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...extra });
  return result.status ?? 1;
};

// `npm install`, not `npm ci`: the npm 11 of this machine kind writes lockfiles without other
// platforms' optional packages and then its own `npm ci` refuses them. The lockfile's versions
// are still the ones installed.
if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  if (run('npm', ['install', '--no-audit', '--no-fund']) !== 0) process.exit(1);
}

const failures = [];
if (run('npm', ['run', '-s', 'lint']) !== 0) failures.push('lint');
if (run('npm', ['run', '-s', 'typecheck']) !== 0) failures.push('typecheck');

const reportDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
const report = join(reportDir, 'vitest.json');
const vitest = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]);
let passed = 0;
let failed = 0;
if (existsSync(report)) {
  const summary = JSON.parse(readFileSync(report, 'utf8'));
  passed = summary.numPassedTests ?? 0;
  failed = (summary.numFailedTests ?? 0) + (summary.numRuntimeErrorTestSuites ?? 0);
}
rmSync(reportDir, { recursive: true, force: true });
if (vitest !== 0) failures.push('tests');
if (vitest !== 0 && failed === 0) failed = 1;

process.stdout.write(`\n${failures.length ? `Failed steps: ${failures.join(', ')}` : 'All steps passed.'}\n`);
process.stdout.write(`${passed} passed, ${failed + (failures.includes('lint') || failures.includes('typecheck') ? 1 : 0)} failed\n`);
process.exit(failures.length ? 1 : 0);
