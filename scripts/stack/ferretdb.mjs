// FerretDB v1.24.2 (MongoDB wire protocol on PostgreSQL), built once from scripts/ferretdb/.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from './apt.mjs';
import { canConnect, runLogged, spawnLogged, stopChild, waitFor } from './proc.mjs';

const SOURCE_DIR = fileURLToPath(new URL('../ferretdb/', import.meta.url));
const SOURCES = ['go.mod', 'go.sum', 'main.go'];

/** Where the binary for the current sources lives: outside the work tree, keyed by their hash. */
export function ferretdbBinaryPath() {
  const hash = createHash('sha256');
  for (const name of SOURCES) hash.update(`${name}\0`).update(readFileSync(join(SOURCE_DIR, name)));
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'gatehouse', `ferretdb-${hash.digest('hex').slice(0, 12)}`, 'ferretdb');
}

/**
 * Returns the cached FerretDB binary, building it first when absent (~1.5–3 min cold).
 * Builds into a temporary name and renames, so a killed build never leaves half a binary.
 */
export async function buildFerretdb({ logsDir, log }) {
  const bin = ferretdbBinaryPath();
  if (existsSync(bin)) return bin;
  const go = which('go');
  if (!go) {
    throw new Error(
      'FerretDB must be built but `go` is not on PATH: install Go (the version named in ' +
        "scripts/ferretdb/go.mod, from https://go.dev/dl; Debian's golang package is too old).",
    );
  }
  mkdirSync(join(bin, '..'), { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}`;
  log(`building FerretDB into ${bin} (first run only, a few minutes) …`);
  const started = Date.now();
  // CGO off: a static binary, no C compiler needed (FerretDB is pure Go).
  const env = { ...process.env, CGO_ENABLED: '0' };
  try {
    await runLogged('ferretdb-build', go, ['build', '-trimpath', '-o', tmp, '.'], {
      logsDir,
      env,
      cwd: SOURCE_DIR,
      timeoutMs: 20 * 60_000,
    });
    renameSync(tmp, bin);
  } finally {
    rmSync(tmp, { force: true });
  }
  log(`FerretDB built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return bin;
}

/** A `ping` over the wire through the mongodb driver (FerretDB's ping also checks PostgreSQL). */
async function pingFerretdb(port) {
  let MongoClient;
  try {
    ({ MongoClient } = await import('mongodb'));
  } catch {
    return canConnect(port); // driver not installed yet: an accepted connection will do
  }
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
    serverSelectionTimeoutMS: 1_000,
    connectTimeoutMS: 1_000,
  });
  try {
    const reply = await client.db('admin').command({ ping: 1 });
    return reply.ok === 1;
  } finally {
    await client.close();
  }
}

/** Starts FerretDB on 127.0.0.1:port against `pgUrl`; waits until it answers ping. */
export async function startFerretdb({ bin, pgUrl, port, logsDir, watchdog }) {
  const child = spawnLogged('ferretdb', bin, ['-listen', `127.0.0.1:${port}`, '-postgresql-url', pgUrl], { logsDir });
  watchdog.track(child, 'SIGTERM');
  try {
    await waitFor('FerretDB did not answer ping', () => pingFerretdb(port), { child, timeoutMs: 30_000, intervalMs: 200 });
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { url: `mongodb://127.0.0.1:${port}`, stop: () => stopChild(child, 'SIGTERM') };
}
