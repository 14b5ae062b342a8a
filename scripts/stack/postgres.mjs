// PostgreSQL for FerretDB: a private cluster, listening on 127.0.0.1 only, trust auth (dev).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { runLogged, spawnLogged, stopChild, waitFor } from './proc.mjs';

const run = promisify(execFile);
// PostgreSQL refuses to run as root, so root runs it as the `postgres` user of the Debian package.
const isRoot = process.getuid?.() === 0;

function pgUserIds() {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no `postgres` user: is the Debian postgresql package installed?');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** [cmd, args] running `cmd` as the postgres user when we are root. setpriv execs (no fork), so signals reach postgres itself. */
function asPgUser(cmd, args) {
  if (!isRoot) return [cmd, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', cmd, ...args]];
}

function makePgOwned(dir) {
  mkdirSync(dir, { recursive: true });
  if (isRoot) {
    const { uid, gid } = pgUserIds();
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
}

async function pgUserCanUse(dir) {
  const [cmd, args] = asPgUser('test', ['-w', dir, '-a', '-x', dir]);
  return run(cmd, args).then(
    () => true,
    () => false,
  );
}

/**
 * Where the cluster lives: `<dataDir>/postgres`, unless the postgres user cannot reach it
 * (some parent is mode 700, e.g. a repo cloned into a `mktemp -d` folder); then a folder
 * under /var/tmp named after dataDir, so the same dataDir always finds the same cluster.
 */
async function choosePgRoot(dataDir, log) {
  const preferred = join(dataDir, 'postgres');
  makePgOwned(preferred);
  if (await pgUserCanUse(preferred)) return { root: preferred, fallback: null };
  try {
    rmdirSync(preferred);
  } catch {} // leave it if something is in it
  const hash = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12);
  const fallback = `/var/tmp/gatehouse-${hash}`;
  makePgOwned(fallback);
  makePgOwned(join(fallback, 'postgres'));
  log(`PostgreSQL data: ${fallback}/postgres (the postgres user cannot reach ${preferred})`);
  return { root: join(fallback, 'postgres'), fallback };
}

async function initCluster({ pgBin, pgData, logsDir, persistent }) {
  // initdb into a temporary name, then rename: a killed initdb never leaves a half cluster.
  const tmp = `${pgData}.init`;
  rmSync(tmp, { recursive: true, force: true });
  // biome-ignore format: flag/value pairs read best on one line
  const [cmd, args] = asPgUser(join(pgBin, 'initdb'), [
    '-D', tmp, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale',
    ...(persistent ? [] : ['--no-sync']),
  ]);
  await runLogged('initdb', cmd, args, { logsDir, cwd: '/', timeoutMs: 120_000 });
  renameSync(tmp, pgData);
}

async function psql(pgBin, port, sql) {
  const connection = ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres'];
  const { stdout } = await run(join(pgBin, 'psql'), ['-X', '-q', '-tA', ...connection, '-c', sql]);
  return stdout.trim();
}

/**
 * Starts PostgreSQL on 127.0.0.1:port (initdb on first use) and makes sure the `ferretdb`
 * database exists. Returns the URL FerretDB should use and stop().
 */
export async function startPostgres({ pgBin, dataDir, logsDir, port, persistent, watchdog, log }) {
  const { root, fallback } = await choosePgRoot(dataDir, log);
  if (fallback && !persistent) watchdog.remove(fallback);
  const pgData = join(root, 'data');
  if (!existsSync(join(pgData, 'PG_VERSION'))) {
    log('initdb (first start) …');
    await initCluster({ pgBin, pgData, logsDir, persistent });
  }
  // biome-ignore format: flag/value pairs read best on one line
  const [cmd, args] = asPgUser(join(pgBin, 'postgres'), [
    '-D', pgData,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=', // TCP only: socket paths under deep folders hit the 107-byte limit
    // A throw-away cluster need not survive a power cut: skip the fsyncs, tests run faster.
    ...(persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
  ]);
  const child = spawnLogged('postgres', cmd, args, { logsDir, cwd: '/' });
  watchdog.track(child, 'SIGINT');
  // SIGINT is PostgreSQL's "fast" shutdown (what `pg_ctl stop -m fast` sends).
  const stop = async () => {
    await stopChild(child, 'SIGINT', 20_000);
    if (fallback && !persistent) rmSync(fallback, { recursive: true, force: true });
  };
  try {
    const isReady = join(pgBin, 'pg_isready');
    const probe = () => run(isReady, ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres']).then(() => true);
    await waitFor('PostgreSQL did not become ready', probe, { child, timeoutMs: 60_000, intervalMs: 200 });
    if ((await psql(pgBin, port, "SELECT 1 FROM pg_database WHERE datname = 'ferretdb'")) !== '1') {
      await psql(pgBin, port, 'CREATE DATABASE ferretdb');
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/ferretdb`, dataPath: pgData, stop };
}
