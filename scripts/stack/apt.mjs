// Installs missing Debian packages, and finds binaries.
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { runLogged } from './proc.mjs';

const isRoot = process.getuid?.() === 0;
let updated = false;

/** Absolute path of `cmd` on PATH (plus the sbin folders apt may install into), or null. */
export function which(cmd) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const dir of dirs) {
    const path = join(dir, cmd);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return null;
}

/** Highest-version `/usr/lib/postgresql/<v>/bin` that holds `postgres`, or null. */
export function findPostgresBin() {
  let versions = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v));
  } catch {
    return null;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = `/usr/lib/postgresql/${v}/bin`;
    try {
      accessSync(join(bin, 'postgres'), constants.X_OK);
      return bin;
    } catch {}
  }
  return null;
}

/**
 * apt-get installs `packages` (noninteractive, no recommends), running `apt-get update`
 * once per process first. Uses `sudo -n` when not root; fails with the command to run
 * by hand when that is not possible.
 */
export async function aptInstall(packages, { logsDir, log }) {
  const sudo = isRoot ? [] : ['sudo', '-n'];
  if (!isRoot && !which('sudo')) {
    throw new Error(`missing ${packages.join(', ')}: run as root: apt-get install -y ${packages.join(' ')}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => {
    const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
    return runLogged('apt', cmd, rest, { logsDir, env, timeoutMs: 15 * 60_000 });
  };
  if (!updated) {
    log('apt-get update …');
    await run(['update', '-q']);
    updated = true;
  }
  log(`apt-get install ${packages.join(' ')} …`);
  await run(['install', '-y', '-q', '--no-install-recommends', ...packages]);
}

/** Installs `redis-server` and `postgresql` when their binaries are absent. */
export async function ensureBinaries({ redis, postgres, logsDir, log }) {
  const missing = [];
  if (redis && !which('redis-server')) missing.push('redis-server');
  if (postgres && !findPostgresBin()) missing.push('postgresql');
  if (missing.length) await aptInstall(missing, { logsDir, log });
  const found = {
    redisServer: redis ? which('redis-server') : null,
    pgBin: postgres ? findPostgresBin() : null,
  };
  if ((redis && !found.redisServer) || (postgres && !found.pgBin)) {
    throw new Error(`installed ${missing.join(', ')} but still cannot find its binaries; see ${logsDir}/apt.log`);
  }
  return found;
}
