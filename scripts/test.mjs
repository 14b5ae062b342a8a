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
import { installIfStale } from './install.mjs';
import { reexecUnderSupportedNode } from './runtime.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// The suite runs on the supported LTS (scripts/runtime.mjs), installed first where it is missing.
await reexecUnderSupportedNode(fileURLToPath(import.meta.url));
process.stdout.write(`Node ${process.versions.node}\n`);
const run = (command, args, extra = {}) => {
  process.stdout.write(`\n▶ ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...extra });
  return result.status ?? 1;
};

try {
  installIfStale((line) => process.stdout.write(`${line}\n`));
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.stdout.write('0 passed, 1 failed\n');
  process.exit(1);
}

// System packages and the FerretDB build, once and in order, before the test projects start
// their global setups in parallel (two concurrent apt-gets would fight over the dpkg lock).
const prepareDir = mkdtempSync(join(tmpdir(), 'gatehouse-prepare-'));
try {
  const { aptInstall, buildFerretdb, findPostgresBin, which } = await import('./stack/index.mjs');
  const say = (line) => process.stdout.write(`prepare: ${line}\n`);
  const missing = [
    ...(which('redis-server') ? [] : ['redis-server']),
    ...(findPostgresBin() ? [] : ['postgresql']),
    ...(existsSync('/usr/bin/chromium') ? [] : ['chromium']),
    ...(existsSync('/usr/bin/firefox-esr') ? [] : ['firefox-esr']),
  ];
  if (missing.length) await aptInstall(missing, { logsDir: prepareDir, log: say });
  await buildFerretdb({ logsDir: prepareDir, log: say });
} catch (error) {
  process.stderr.write(`preparing the test machine failed: ${error.message}\n`);
  process.stdout.write('0 passed, 1 failed\n');
  process.exit(1);
} finally {
  rmSync(prepareDir, { recursive: true, force: true });
}

const failures = [];
if (run('npm', ['run', '-s', 'lint']) !== 0) failures.push('lint');
if (run('npm', ['run', '-s', 'typecheck']) !== 0) failures.push('typecheck');

const reportDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
const report = join(reportDir, 'vitest.json');
// GATEHOUSE_SUITE_CHECKS: the whole suite ran, so the server project's teardown may judge that
// every audit action was produced by some test (server/test/suite-audit.ts).
const vitest = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
  env: { ...process.env, GATEHOUSE_SUITE_CHECKS: '1' },
});
let passed = 0;
let failed = 0;
const count = (file) => {
  if (!existsSync(file)) return;
  const summary = JSON.parse(readFileSync(file, 'utf8'));
  passed += summary.numPassedTests ?? 0;
  failed += (summary.numFailedTests ?? 0) + (summary.numRuntimeErrorTestSuites ?? 0);
};
count(report);
if (vitest !== 0) failures.push('tests');
if (vitest !== 0 && failed === 0) failed = 1;

// The 3-minute soak (issue 14) runs last and alone: it checks slopes (RSS, sockets), and with
// every other test file on the same two cores it would measure the neighbours, not the server.
const soakReport = join(reportDir, 'soak.json');
const soak = run(
  'npx',
  ['vitest', 'run', '--project', 'server', 'test/soak.test.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${soakReport}`],
  { env: { ...process.env, GATEHOUSE_SOAK_TEST: '1' } },
);
const failedBeforeSoak = failed;
count(soakReport);
if (soak !== 0) failures.push('soak');
if (soak !== 0 && failed === failedBeforeSoak) failed++;
rmSync(reportDir, { recursive: true, force: true });

process.stdout.write(`\n${failures.length ? `Failed steps: ${failures.join(', ')}` : 'All steps passed.'}\n`);
process.stdout.write(`${passed} passed, ${failed + (failures.includes('lint') || failures.includes('typecheck') ? 1 : 0)} failed\n`);
process.exit(failures.length ? 1 : 0);
