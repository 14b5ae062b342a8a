#!/usr/bin/env node
// The `gatehouse` admin command, with the same environment as the server. From a checkout with
// the development tools installed it runs the sources (server/src/cli/main.ts under tsx); in a
// production install (`npm ci --omit=dev`, the container) it runs the build, server/dist.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { withDevStackEnv } from './dev-stack-env.mjs';

const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const built = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const repo = fileURLToPath(new URL('../..', import.meta.url));

function hasTsx() {
  try {
    createRequire(import.meta.url).resolve('tsx');
    return true;
  } catch {
    return false;
  }
}

const { env, taken, file } = withDevStackEnv(repo, process.env);
if (taken.length > 0) process.stderr.write(`gatehouse: using the development stack's ${taken.join(', ')} from ${file}\n`);
const fromSource = existsSync(source) && hasTsx();
if (!fromSource && !existsSync(built)) {
  process.stderr.write('gatehouse: neither the sources with tsx nor a build (npm run build) are here\n');
  process.exit(1);
}
const args = fromSource ? ['--import', 'tsx', '--conditions=gatehouse-source', source] : ['--enable-source-maps', built];
const result = spawnSync(process.execPath, [...args, ...process.argv.slice(2)], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
