#!/usr/bin/env node
/**
 * `npm run bench` and `npm run soak`: run the TypeScript driver named first (bench/run.ts,
 * bench/soak.ts) under the supported LTS (scripts/runtime.mjs), like `npm test` and `npm start`,
 * so the figures are the runtime's that deployments use (docs/benchmarks.md).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { installIfStale } from './install.mjs';
import { reexecUnderSupportedNode } from './runtime.mjs';

await reexecUnderSupportedNode(fileURLToPath(import.meta.url));
// From a clean clone too: the drivers need tsx and the dev dependencies (autocannon, oidc-provider).
installIfStale((line) => process.stdout.write(`bench: ${line}\n`));
const [script, ...args] = process.argv.slice(2);
const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=gatehouse-source', script, ...args], {
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.once('exit', (status, signal) => process.exit(status ?? (signal ? 1 : 0)));
