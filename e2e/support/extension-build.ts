// The extension's test build (`npm run -w extension build:test`): the same code as the release
// build, plus host permissions for the local and e2e hosts so no permission prompt is needed.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Unpacked test builds, ready for `browser.installExtension`. */
export interface TestExtensionBuild {
  chromium: string;
  firefox: string;
}

const repo = fileURLToPath(new URL('../..', import.meta.url));
const output = join(repo, 'extension', '.output-test');

/** What the build reads: a change in any of these makes the last build stale. */
const SOURCES = [join(repo, 'extension'), join(repo, 'shared'), join(repo, 'manifest.config.ts')];
const NOT_SOURCES = new Set(['node_modules', '.output', '.output-test', '.wxt', 'dist', 'coverage']);

function newestModification(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (!NOT_SOURCES.has(entry)) newest = Math.max(newest, newestModification(join(path, entry)));
  }
  return newest;
}

function builtAt(build: TestExtensionBuild): number {
  const manifests = [build.chromium, build.firefox].map((dir) => join(dir, 'manifest.json'));
  return manifests.every((manifest) => existsSync(manifest)) ? Math.min(...manifests.map((manifest) => statSync(manifest).mtimeMs)) : 0;
}

/** Builds the test extension unless a build newer than every source is already there. */
export async function buildTestExtension(log: (line: string) => void, logFile: string): Promise<TestExtensionBuild> {
  const build = { chromium: join(output, 'chrome-mv3'), firefox: join(output, 'firefox-mv3') };
  if (builtAt(build) > Math.max(...SOURCES.map(newestModification))) {
    log('the test extension build is up to date');
    return build;
  }
  log('building the test extension (npm run -w extension build:test) …');
  const out = openSync(logFile, 'w');
  const child = spawn('npm', ['run', '-w', 'extension', 'build:test'], { cwd: repo, stdio: ['ignore', out, out] });
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('exit', done);
  });
  if (code !== 0) throw new Error(`the test extension build failed (exit ${code}); see ${logFile}`);
  if (!builtAt(build)) throw new Error(`the test extension build left no manifest.json in ${build.chromium} and ${build.firefox}`);
  return build;
}
