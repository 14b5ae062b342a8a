import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));

/**
 * Builds the server (scripts/build.mjs, as the Dockerfile does) and returns the node arguments that
 * start it the way the Dockerfile's CMD does: `--enable-source-maps server/dist/main.js`, run from
 * the repository root. The benchmarks measure what deployments run: the TypeScript through tsx is
 * esbuild's output, which wraps every named closure in a `__name` call (keepNames), work a request
 * pays each time it makes one (docs/benchmarks.md, "What is measured").
 */
export function builtServerArgs(): string[] {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
  return ['--enable-source-maps', 'server/dist/main.js'];
}
