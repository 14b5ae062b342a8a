#!/usr/bin/env node
// The `gatehouse` admin command: runs server/src/cli/main.ts with the same environment as the server.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withDevStackEnv } from './dev-stack-env.mjs';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const repo = fileURLToPath(new URL('../..', import.meta.url));
const { env, taken, file } = withDevStackEnv(repo, process.env);
if (taken.length > 0) process.stderr.write(`gatehouse: using the development stack's ${taken.join(', ')} from ${file}\n`);
const result = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=gatehouse-source', main, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
});
process.exit(result.status ?? 1);
