// Lets the `gatehouse` command, run from a checkout, reach the stack that `npm start` runs
// without exporting MONGODB_URL, REDIS_URL and MASTER_KEY by hand (docs/development.md).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The environment to run the command with: `env` itself, plus the development stack's settings
 * (`<stack>/dev-env.json`, written by scripts/start.mjs) for every variable `env` does not set.
 * Never in production, and never when the operator named a database: then nothing is guessed.
 * Returns the names taken from the stack, for the one line that says so.
 *
 * @param {string} repo the checkout's root
 * @param {NodeJS.ProcessEnv} env
 * @returns {{ env: NodeJS.ProcessEnv, taken: string[], file: string }}
 */
export function withDevStackEnv(repo, env) {
  const file = join(env.GATEHOUSE_STACK_DIR ?? join(repo, '.stack'), 'dev-env.json');
  if (env.NODE_ENV === 'production' || env.MONGODB_URL !== undefined || !existsSync(file)) return { env, taken: [], file };
  let settings;
  try {
    settings = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return { env, taken: [], file };
  }
  const taken = Object.keys(settings).filter((key) => typeof settings[key] === 'string' && env[key] === undefined);
  return { env: { ...env, ...Object.fromEntries(taken.map((key) => [key, settings[key]])) }, taken, file };
}
