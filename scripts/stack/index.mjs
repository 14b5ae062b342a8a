// The local stack: Redis, PostgreSQL + FerretDB (MongoDB wire protocol) and the dev IdP.
// Used by `npm start` (persistent, under .stack/) and by the test suites (throw-away).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBinaries } from './apt.mjs';
import { buildFerretdb, startFerretdb } from './ferretdb.mjs';
import { startPostgres } from './postgres.mjs';
import { assertPortFree, freePort } from './proc.mjs';
import { startRedis } from './redis.mjs';

export { aptInstall, findPostgresBin, which } from './apt.mjs';
export { buildFerretdb } from './ferretdb.mjs';
export { freePort } from './proc.mjs';

/** Spawns the dead-man switch (watchdog.mjs) that cleans up if this process dies without stop(). */
function startWatchdog() {
  const script = fileURLToPath(new URL('./watchdog.mjs', import.meta.url));
  const child = spawn(process.execPath, [script], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.unref();
  child.stdin.unref?.(); // never keeps our event loop alive
  child.stdin.on('error', () => {}); // it may be gone already when we write
  const send = (msg) => child.stdin.writable && child.stdin.write(`${JSON.stringify(msg)}\n`);
  return {
    track(proc, signal) {
      if (!proc.pid) return;
      send({ kill: proc.pid, signal });
      proc.once('exit', () => send({ forget: proc.pid }));
    },
    remove: (path) => send({ rm: path }),
    close: () => child.kill('SIGKILL'),
  };
}

/** Starts a service on `port`; when that port turned out to be taken, on another free one (three tries). */
async function retryOnTakenPort(name, port, start, log) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(port);
    } catch (err) {
      if (attempt === 3 || !/address already in use/i.test(err?.message ?? '')) throw err;
      log(`${name}: port ${port} was taken before it could bind; trying another`);
      port = await freePort();
    }
  }
}

/**
 * Starts what Gatehouse needs locally, installing Debian packages and building FerretDB
 * when missing. Every service listens on 127.0.0.1 only.
 *
 * - `REDIS_URL` set in the environment: Redis is not started and that URL is returned.
 * - `MONGODB_URL` set: PostgreSQL and FerretDB are not started and that URL is returned.
 * - Missing ports are picked free at random.
 * - Child logs go to `<dataDir>/logs/*.log`; every wait has a timeout whose error carries
 *   the tail of that log.
 * - If this process dies without calling stop(), a detached watchdog stops the children
 *   (and removes a throw-away PostgreSQL fallback folder).
 *
 * @param {object} options
 * @param {string} options.dataDir folder for data and logs (created if missing)
 * @param {{ redis?: number, postgres?: number, ferretdb?: number, idp?: number }} [options.ports]
 * @param {{ clients: object[], accounts?: object[], issuer?: string }} [options.idp]
 *   start the dev IdP (scripts/dev-idp) with these oidc-provider client metadata
 * @param {boolean} [options.mail] start the development mail catcher (scripts/mail-catcher)
 * @param {boolean} [options.persistent] true: data survives restarts (Redis AOF, fsynced
 *   PostgreSQL); false: throw-away, faster, fallback folders removed on stop()
 * @param {(line: string) => void} [options.log] progress lines
 * @returns {Promise<{ redisUrl: string, mongoUrl: string, idpIssuer: string | undefined,
 *   idp: object | undefined, mail: object | undefined, dataDir: string, postgresData: string | undefined,
 *   track: (child: import('node:child_process').ChildProcess, signal?: NodeJS.Signals) => void,
 *   stop: () => Promise<void> }>}
 *   mongoUrl has no database path; postgresData is the cluster folder (it may be a
 *   /var/tmp fallback, see postgres.mjs); stop() is idempotent.
 */
export async function startStack({ dataDir, ports = {}, idp, mail = false, persistent = false, log = () => {} }) {
  const started = Date.now();
  dataDir = resolve(dataDir);
  const logsDir = join(dataDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const wantRedis = !process.env.REDIS_URL;
  const wantMongo = !process.env.MONGODB_URL;
  if (!wantRedis) log('REDIS_URL is set: not starting Redis');
  if (!wantMongo) log('MONGODB_URL is set: not starting PostgreSQL/FerretDB');

  const watchdog = startWatchdog();
  const stops = []; // in start order; stopped in reverse (FerretDB before PostgreSQL)
  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      for (const stopOne of stops.reverse()) await stopOne().catch((err) => log(`stop: ${err.message}`));
      watchdog.close();
    })());
  const started$ = (promise) =>
    promise.then((service) => {
      stops.push(service.stop);
      return service;
    });
  const settle = async (promises) => {
    const results = await Promise.allSettled(promises);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.map((r) => r.value);
  };

  try {
    const port = { ...ports };
    for (const [name, wanted] of [
      ['redis', wantRedis],
      ['postgres', wantMongo],
      ['ferretdb', wantMongo],
      ['idp', !!idp],
    ]) {
      if (!wanted) continue;
      port[name] ??= await freePort();
      await assertPortFree(port[name], name);
    }
    // The mail catcher binds port 0 itself when none is given (its URLs carry the ports it got).
    for (const name of mail ? ['smtp', 'mailWeb'] : []) if (port[name] !== undefined) await assertPortFree(port[name], name);
    const { redisServer, pgBin } = await ensureBinaries({ redis: wantRedis, postgres: wantMongo, logsDir, log });
    const common = { dataDir, logsDir, persistent, watchdog, log };
    // A port picked free above may be taken by the time its service binds (initdb alone takes
    // seconds; CI saw PostgreSQL lose its port to another process): a port we picked is picked
    // again, a port the caller chose fails as before.
    const onPort = (name, start) => (ports[name] === undefined ? retryOnTakenPort(name, port[name], start, log) : start(port[name]));

    const redis = wantRedis ? started$(onPort('redis', (p) => startRedis({ ...common, redisServer, port: p }))) : undefined;
    const mongo = wantMongo
      ? (async () => {
          // The (possibly minutes-long) first build overlaps with initdb.
          const [bin, pg] = await settle([
            buildFerretdb({ logsDir, log }),
            started$(onPort('postgres', (p) => startPostgres({ ...common, pgBin, port: p }))),
          ]);
          const ferretdb = await started$(onPort('ferretdb', (p) => startFerretdb({ ...common, bin, pgUrl: pg.url, port: p })));
          return { ...ferretdb, postgresData: pg.dataPath };
        })()
      : undefined;
    const devIdp = idp
      ? started$(
          import('../dev-idp/index.mjs')
            .then(({ createDevIdp }) => onPort('idp', (p) => createDevIdp({ ...idp, port: p })))
            .then((server) => ({ ...server, stop: server.close })),
        )
      : undefined;
    const catcher = mail
      ? started$(
          import('../mail-catcher/index.mjs')
            .then(({ startMailCatcher }) => startMailCatcher({ smtpPort: port.smtp ?? 0, webPort: port.mailWeb ?? 0 }))
            .then((server) => ({ ...server, stop: server.close })),
        )
      : undefined;
    const [r, m, i, c] = await settle([redis, mongo, devIdp, catcher]);

    log(`stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return {
      redisUrl: r?.url ?? process.env.REDIS_URL,
      mongoUrl: m?.url ?? process.env.MONGODB_URL,
      idpIssuer: i?.issuer,
      idp: i,
      mail: c,
      dataDir,
      postgresData: m?.postgresData,
      // Lets the caller put its own child (e.g. the backend) under the same watchdog.
      track: (child, signal = 'SIGTERM') => watchdog.track(child, signal),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
