#!/usr/bin/env node
// `node scripts/production-install.mjs <dir>`: lays out a runnable production server in <dir>
// from a built checkout (`npm run build` first): the package manifests and lockfile, the
// production dependencies of server/ and shared/ only (`npm ci --omit=dev`: no TypeScript, no
// tsx, no test tools), and the compiled files. The Dockerfile's build stage and the built-server
// end-to-end tests both run this script, so what is tested is what ships (docs/deployment.md).
// Start it with `node --enable-source-maps server/dist/main.js` from <dir>.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));

/** Everything npm needs to resolve the workspaces against the lockfile, and what runs. */
const MANIFESTS = [
  'package.json',
  'package-lock.json',
  'shared/package.json',
  'server/package.json',
  'extension/package.json',
  'e2e/package.json',
];
const BUILT = ['shared/dist', 'server/dist', 'server/bin'];

export function installProduction(target, { log = (line) => process.stdout.write(`${line}\n`) } = {}) {
  for (const path of BUILT) {
    if (!existsSync(join(repo, path))) throw new Error(`${path} is missing: run npm run build first`);
  }
  for (const path of MANIFESTS) {
    mkdirSync(dirname(join(target, path)), { recursive: true });
    cpSync(join(repo, path), join(target, path));
  }
  log(`production-install: npm ci --omit=dev (server and shared only) in ${target} …`);
  // The extension and e2e workspaces stay out: their install scripts need development tools.
  const npm = spawnSync(
    'npm',
    ['ci', '--omit=dev', '--workspace=server', '--workspace=shared', '--no-audit', '--no-fund', '--ignore-scripts'],
    { cwd: target, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (npm.status !== 0) throw new Error(`npm ci --omit=dev failed (exit ${npm.status})`);
  for (const path of BUILT) {
    cpSync(join(repo, path), join(target, path), { recursive: true, filter: (source) => !source.endsWith('.tsbuildinfo') });
  }
  log('production-install: done');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const target = process.argv[2];
  if (!target) {
    process.stderr.write('usage: node scripts/production-install.mjs <dir>\n');
    process.exit(64);
  }
  installProduction(resolve(target));
}
