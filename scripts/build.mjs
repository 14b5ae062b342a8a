#!/usr/bin/env node
// `npm run build`: compiles shared/ and server/ to JavaScript (tsc project references, source
// maps on) and copies the page assets, so that the server runs as `node server/dist/main.js`
// with production dependencies only. The Dockerfile and the built-server tests run this same
// script (docs/deployment.md).
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

for (const dir of ['shared/dist', 'server/dist']) rmSync(join(repo, dir), { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-b', 'server/tsconfig.build.json'], { cwd: repo, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
// Files the server reads beside its own modules at start (new URL(…, import.meta.url)).
for (const path of ['web/assets', 'local-auth/common-passwords.txt', 'local-auth/common-passwords.LICENSE.md']) {
  cpSync(join(repo, 'server/src', path), join(repo, 'server/dist', path), { recursive: true });
}
process.stdout.write('built shared/dist and server/dist\n');
