/**
 * `npm run bench`: the performance budget of docs/benchmarks.md, measured on this machine, against a
 * throw-away real stack (Redis, FerretDB on PostgreSQL) and the real server process.
 * Prints a table; figures go into docs/benchmarks.md with the machine they came from.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { freePort, startStack } from '../scripts/stack/index.mjs';
import { createApp } from '../server/src/app.js';
import { loadConfig } from '../server/src/config/index.js';
import { systemClock } from '../server/src/context.js';
import { IpCipher } from '../server/src/crypto/index.js';
import { createLogger } from '../server/src/log/index.js';
import { connectMongo, createRedis, ensureIndexes, redisReady } from '../server/src/store/index.js';
import { builtServerArgs } from './built-server.js';
import { postForm, proofSigner, type RefreshClient } from './refresh-client.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
/**
 * Each case first runs unmeasured, the references too, until V8 has stopped compiling its path:
 * at least this long, then in slices of WARMUP_SLICE_SECONDS until WARMUP_QUIET_SLICES slices in
 * a row in which V8's worker threads (its optimizing compilers) took under WARMUP_SETTLED of the
 * process's CPU, at most BENCH_WARMUP_MAX_SECONDS. V8 moves a hot function to its top tier only
 * after many calls: on the refresh grant, 10–15 s into the load (docs/benchmarks.md, "Warm-up").
 * Compiling is real CPU in /proc, but a running server pays it once, not per request.
 */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const WARMUP_MAX_SECONDS = Number(process.env.BENCH_WARMUP_MAX_SECONDS ?? 60);
const WARMUP_SLICE_SECONDS = 2;
const WARMUP_SETTLED = 0.03;
const WARMUP_QUIET_SLICES = 3;
/** `npm run bench -- overload`: twice the peak rate, then recovery (docs/benchmarks.md, "Overload"). */
const MODE = process.argv[2] === 'overload' ? 'overload' : 'table';
/** `BENCH_ONLY=introspect,refresh`: run only these cases (for a focused `BENCH_PROFILE`). */
const ONLY = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
const runs = (name: 'verify' | 'healthz' | 'introspect' | 'list' | 'me' | 'refresh' | 'reference' | 'store') =>
  !ONLY || ONLY.includes(name);
const results: { name: string; value: string; note: string }[] = [];
const report = (name: string, value: string, note = '') => {
  results.push({ name, value, note });
  process.stdout.write(`${name}: ${value} ${note}\n`);
};

async function rawVerifyRate(): Promise<number> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const token = await new SignJWT({ tv: 0 }).setProtectedHeader({ alg: 'ES256' }).setSubject('u').setExpirationTime('1h').sign(privateKey);
  const end = Date.now() + 2000;
  let count = 0;
  while (Date.now() < end) {
    await jwtVerify(token, publicKey);
    count++;
  }
  return count / 2;
}

const rows: { path: string; gatehouse: Measured }[] = [];
const references: Partial<Record<'memory' | 'mongo', Measured>> = {};
let insertCeiling = { rate: 0, boxCpuMs: 0 };
/** /healthz measured again right after the bearer check (the ratio uses the mean of both). */
let healthzAfter: Measured | undefined;

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  chmodSync(dataDir, 0o755);
  const stack = await startStack({ dataDir, persistent: false, ports: {}, log: () => undefined });
  const port = await freePort();
  const env = {
    // Not `test`: that mode checks every answer against its schema (http/route.ts), which a
    // deployment does not pay. Not `production` either: it wants https.
    NODE_ENV: 'development',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    MONGODB_URL: `${stack.mongoUrl}/bench`,
    REDIS_URL: stack.redisUrl,
    MASTER_KEY: randomBytes(32).toString('base64url'),
    RESOURCE_SERVERS: `bench:${randomBytes(32).toString('base64url')}`,
    RATE_LIMIT_PER_MINUTE: '1000000',
    DEVICE_POLL_INTERVAL_SECONDS: '1',
    LOG_LEVEL: process.env.BENCH_SERVER_LOG ? 'info' : 'warn',
  };
  // BENCH_PROFILE: V8's sampling profile (wall time). BENCH_PERF: JIT frames named for `perf record`,
  // which samples CPU time only (docs/benchmarks.md, "Where the CPU goes").
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : process.env.BENCH_PERF
      ? ['--perf-basic-prof']
      : [];
  // BENCH_NODE_FLAGS: more flags for the server's node (say `--trace-opt --trace-deopt`); its
  // standard output then goes to bench/out/server-stdout.txt.
  const nodeFlags = process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  if (nodeFlags.length > 0) mkdirSync(new URL('out', import.meta.url), { recursive: true });
  const serverStdout = nodeFlags.length > 0 ? openSync(new URL('out/server-stdout.txt', import.meta.url), 'w') : undefined;
  const server = spawn(process.execPath, [...profile, ...nodeFlags, ...builtServerArgs()], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, ...env },
    stdio: ['ignore', serverStdout ?? (process.env.BENCH_SERVER_LOG ? 'inherit' : 'ignore'), 'inherit'],
  });
  serverPid = server.pid as number;
  try {
    await waitFor(`http://127.0.0.1:${port}/readyz`);
    // Mint tokens with the same keyring, through the services (not timed).
    const config = loadConfig(env);
    const log = createLogger('warn');
    const redis = createRedis(config.redis, { timeoutMs: 1000, keyPrefix: config.REDIS_KEY_PREFIX });
    await redisReady(redis, 5000);
    const mongo = await connectMongo(config.MONGODB_URL, 2000);
    await ensureIndexes(mongo.db);
    const { services, close } = await createApp({
      config,
      log,
      db: mongo.db,
      redis,
      clock: systemClock,
      ipCipher: new IpCipher(config.masterKey),
    });
    const user = {
      _id: 'benchuser0001',
      name: 'Bench',
      status: 'active' as const,
      roles: ['user' as const],
      tokenVersion: 0,
      keySalt: IpCipher.newUserSalt(),
      createdAt: new Date(),
      updatedAt: new Date(),
    };
    await services.users.insertUser(user);
    const tokens: string[] = [];
    for (let i = 0; i < 200; i++) {
      const { token } = await services.sessions.createApiToken(
        user,
        { requestId: 'bench', ip: '127.0.0.1', userAgent: 'bench' },
        { name: `t${i}`, scopes: ['sessions:read', 'profile:read'], expiresInDays: 1 },
      );
      tokens.push(token);
    }
    const [resourceId, resourceSecret] = env.RESOURCE_SERVERS.split(':') as [string, string];
    if (MODE === 'overload') {
      await overload(`http://127.0.0.1:${port}`, tokens);
      close();
      redis.disconnect();
      await mongo.client.close();
      return;
    }
    const basic = `Basic ${Buffer.from(`${resourceId}:${resourceSecret}`).toString('base64')}`;

    if (runs('verify')) report('raw ES256 verify (jose, one core)', `${Math.round(await rawVerifyRate())}/s`);
    if (runs('healthz')) {
      const baseline = await load(`http://127.0.0.1:${port}/healthz`, {});
      rows.push({ path: 'GET /healthz (whole middleware stack)', gatehouse: baseline.measured });
      report(
        'baseline: GET /healthz (whole middleware stack, no Redis, no auth)',
        `${Math.round(baseline.requests.average)}/s`,
        `p99 ${baseline.latency.p99} ms`,
      );
    }

    let next = 0;
    if (runs('introspect')) {
      const introspect = await load(`http://127.0.0.1:${port}/oauth/introspect`, {
        method: 'POST',
        setupClient: (client) => {
          client.setHeaders({ authorization: basic, 'content-type': 'application/x-www-form-urlencoded' });
          client.on('response', () => undefined);
        },
        requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, body: `token=${tokens[next++ % tokens.length]}` }) }],
      });
      rows.push({ path: 'POST /oauth/introspect (bearer check)', gatehouse: introspect.measured });
      // The baseline again right after: on this shared box a single /healthz run swings by 2×
      // between minutes, and the ratio is taken against the mean of the two.
      if (runs('healthz')) healthzAfter = (await load(`http://127.0.0.1:${port}/healthz`, {})).measured;
      report(
        'bearer token check (POST /oauth/introspect: verify + 1 Redis round trip)',
        `${Math.round(introspect.requests.average)}/s`,
        `p99 ${introspect.latency.p99} ms, non-2xx ${introspect.non2xx}`,
      );
    }

    if (runs('list')) {
      // What the popup and the account page ask for: the first page (50) of the user's sessions.
      const fewTokens: string[] = [];
      const few = { ...user, _id: 'benchuser0002' };
      await services.users.insertUser(few);
      for (let i = 0; i < 20; i++) {
        const { token } = await services.sessions.createApiToken(
          few,
          { requestId: 'bench', ip: '127.0.0.1', userAgent: 'bench' },
          { name: `f${i}`, scopes: ['sessions:read', 'profile:read'], expiresInDays: 1 },
        );
        fewTokens.push(token);
      }
      for (const [count, pool] of [
        [20, fewTokens],
        [200, tokens],
      ] as const) {
        const list = await load(`http://127.0.0.1:${port}/api/v1/me/sessions`, {
          requests: [
            {
              method: 'GET',
              setupRequest: (request) => ({ ...request, headers: { authorization: `Bearer ${pool[next++ % pool.length]}` } }),
            },
          ],
        });
        rows.push({ path: `GET /api/v1/me/sessions (user with ${count} sessions)`, gatehouse: list.measured });
        report(
          `session list (GET /api/v1/me/sessions, first page of 50, user with ${count} sessions: 1 Redis round trip, user and list from the per-instance caches)`,
          `${Math.round(list.requests.average)}/s`,
          `p99 ${list.latency.p99} ms, p99 at 70 % of peak ${list.measured.p99At70} ms, non-2xx ${list.non2xx}, server CPU ${list.measured.cpuMs.toFixed(2)} ms/request`,
        );
      }
    }

    // Paired clients: DPoP-bound access tokens and the refresh_token exchange.
    const origin = `http://127.0.0.1:${port}`;
    const meta = { requestId: 'bench', ip: '127.0.0.1', userAgent: 'bench' };
    const clients = await Promise.all(
      Array.from({ length: 16 }, async () => {
        // Extractable: the refresh load signs with node:crypto (bench/refresh-client.ts).
        const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
        const jwk = await exportJWK(publicKey);
        const jkt = await calculateJwkThumbprint(jwk);
        const started = await services.pairing.start({ clientId: 'gatehouse-extension', scope: undefined, jkt }, meta);
        await services.pairing.decide(started.user_code, user, 'approve', meta);
        const tokens = await services.pairing.redeemDeviceCode(
          { deviceCode: started.device_code, clientId: 'gatehouse-extension', jkt },
          meta,
        );
        return { privateKey, jwk, refreshToken: tokens.refresh_token, accessToken: tokens.access_token };
      }),
    );
    const proof = (client: (typeof clients)[number], htm: string, url: string, extra: Record<string, string>) =>
      new SignJWT({ htm, htu: url, jti: randomBytes(16).toString('base64url'), ...extra })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: client.jwk })
        .setIssuedAt()
        .sign(client.privateKey);

    if (runs('me')) {
      const meUrl = `${origin}/api/v1/me`;
      const first = clients[0] as (typeof clients)[number];
      const ath = createHash('sha256').update(first.accessToken).digest('base64url');
      // Each run signs its proofs before it starts (each is single-use, and fresh for two
      // minutes), so the load generator only sends.
      let proofs: string[] = [];
      let nextProof = 0;
      const signProofs = async (seconds: number) => {
        proofs = await Promise.all(Array.from({ length: Math.min(150_000, seconds * 10_000) }, () => proof(first, 'GET', meUrl, { ath })));
        nextProof = 0;
      };
      const dpopRead = await load(
        meUrl,
        {
          requests: [
            {
              method: 'GET',
              setupRequest: (request) => ({
                ...request,
                headers: { authorization: `DPoP ${first.accessToken}`, dpop: proofs[nextProof++ % proofs.length] as string },
              }),
            },
          ],
        },
        signProofs,
      );
      const bearerRead = await load(meUrl, {
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => ({ ...request, headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` } }),
          },
        ],
      });
      rows.push({ path: 'GET /api/v1/me with DPoP', gatehouse: dpopRead.measured });
      rows.push({ path: 'GET /api/v1/me with Bearer', gatehouse: bearerRead.measured });
      report(
        'DPoP API read (GET /api/v1/me: verify token + proof, 1 Redis round trip, user from the per-instance cache)',
        `${Math.round(dpopRead.requests.average)}/s`,
        `p99 ${dpopRead.latency.p99} ms, non-2xx ${dpopRead.non2xx} (replays after ${proofs.length} proofs); Bearer API token on the same route: ${Math.round(bearerRead.requests.average)}/s, p99 ${bearerRead.latency.p99} ms, non-2xx ${bearerRead.non2xx}`,
      );
    }

    if (runs('refresh')) {
      const tokenUrl = `${origin}/oauth/token`;
      const nonce = (await fetch(tokenUrl, { method: 'POST' })).headers.get('dpop-nonce') ?? '';
      const gatehouseRefresh = await refreshPeakAndHeld(server.pid as number, tokenUrl, 'gatehouse-extension', clients, { nonce });
      report(
        'exchange (refresh_token grant with DPoP: the presented token from this instance’s memory, else 1 MongoDB point read; 1 insert, sent with concurrent exchanges’ as one insertMany; lastSeen once a minute; 1 Redis round trip for revocation and the proof jti)',
        `${Math.round(gatehouseRefresh.rate)}/s`,
        `p50 ${gatehouseRefresh.p50} ms, p99 ${gatehouseRefresh.p99} ms, server CPU ${gatehouseRefresh.cpuMs.toFixed(2)} ms/request, 16 clients in sequence each, failures ${gatehouseRefresh.failures}`,
      );
      rows.push({ path: 'refresh_token grant with DPoP and rotation', gatehouse: gatehouseRefresh });
    }

    // The reference: node-oidc-provider for the same grant, with its memory adapter and with a
    // MongoDB adapter on the same FerretDB, driven by the same load generator.
    for (const store of runs('reference') ? (['memory', 'mongo'] as const) : []) {
      const reference = await startReference(store, `${stack.mongoUrl}/benchref`, clients);
      try {
        const refClients = clients.map((client, i) => ({ ...client, refreshToken: reference.refreshTokens[i] as string }));
        // With its MongoDB adapter the reference slows down as its collections grow (an upsert and
        // an update per exchange: 132-145/s in its first seconds, 86-94/s a minute later, 17:54-17:57 UTC),
        // so it gets the shortest warm-up, which favours it (docs/benchmarks.md, "Warm-up").
        const warmupMaxSeconds = store === 'mongo' ? WARMUP_SECONDS : undefined;
        const measured = await refreshPeakAndHeld(reference.pid, reference.tokenUrl, 'bench-device', refClients, { warmupMaxSeconds });
        report(
          `reference: node-oidc-provider 9 refresh_token grant with DPoP and rotation, ${store === 'memory' ? 'memory adapter' : 'MongoDB adapter on the same FerretDB'}`,
          `${Math.round(measured.rate)}/s`,
          `p50 ${measured.p50} ms, p99 ${measured.p99} ms, server CPU ${measured.cpuMs.toFixed(2)} ms/request, failures ${measured.failures}`,
        );
        references[store] = measured;
      } finally {
        reference.child.kill('SIGTERM');
      }
    }

    if (runs('store')) {
      insertCeiling = await insertRate(mongo.db);
      report(
        'store ceiling: single-document inserts (16 concurrent)',
        `${Math.round(insertCeiling.rate)}/s`,
        `box CPU ${insertCeiling.boxCpuMs.toFixed(2)} ms per insert`,
      );
      report('store ceiling: single-document updates (16 concurrent)', `${Math.round(await updateRate(mongo.db))}/s`);
    }
    close();
    redis.disconnect();
    await mongo.client.close();
  } finally {
    server.kill('SIGTERM');
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(
    `\nMachine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}\n\n`,
  );
  process.stdout.write(
    `| measurement | result | notes |\n|---|---|---|\n${results.map((r) => `| ${r.name} | ${r.value} | ${r.note} |`).join('\n')}\n`,
  );
  process.stdout.write(`\n${comparisonTable(rows, references, insertCeiling)}\n`);
}

/**
 * Overload: find the peak of Bearer `GET /api/v1/me`, offer twice that rate with many
 * connections while /healthz is polled, then measure p99 second by second until it is back to
 * normal. Passes when every answer was 2xx, 429 or 503 (with Retry-After), /healthz kept
 * answering, the server process is still alive and p99 recovered within 5 s.
 */
async function overload(origin: string, tokens: string[]): Promise<void> {
  let next = 0;
  const me = (options: Partial<autocannon.Options>) =>
    autocannon({
      url: `${origin}/api/v1/me`,
      connections: 32,
      duration: SECONDS,
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => ({ ...request, headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` } }),
        },
      ],
      ...options,
    } as autocannon.Options);
  const peak = await me({});
  const normal = await me({ connections: 4, duration: 3, overallRate: Math.max(10, Math.round(peak.requests.average * 0.3)) });
  report('overload: peak (Bearer GET /api/v1/me, 32 connections)', `${Math.round(peak.requests.average)}/s`, `p99 ${peak.latency.p99} ms`);
  report('overload: normal p99 at 30 % of peak', `${normal.latency.p99} ms`);

  const health: { ok: number; failed: number; worst: number } = { ok: 0, failed: 0, worst: 0 };
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const started = performance.now();
      const ok = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
        (r) => r.ok,
        () => false,
      );
      health.worst = Math.max(health.worst, performance.now() - started);
      if (ok) health.ok++;
      else health.failed++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  let retryAfterSeen = 0;
  let without = 0;
  const sampler = (async () => {
    while (polling) {
      const response = await fetch(`${origin}/api/v1/me`, { headers: { authorization: `Bearer ${tokens[0]}` } }).catch(() => null);
      if (response?.status === 503) {
        if (response.headers.get('retry-after')) retryAfterSeen++;
        else without++;
      }
      await response?.arrayBuffer().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const rate = Math.round(peak.requests.average * 2);
  const flood = await me({ connections: 512, overallRate: rate, timeout: 30 });
  polling = false;
  await Promise.all([poller, sampler]);
  const codes = Object.entries(flood.statusCodeStats ?? {}).map(([code, { count }]) => `${code}: ${count}`);
  const bad = Object.keys(flood.statusCodeStats ?? {}).filter((code) => !/^(2\d\d|429|503)$/.test(code));
  report(
    `overload: twice the peak offered (${rate}/s, 512 connections)`,
    `${Math.round(flood.requests.average)}/s answered`,
    `status codes ${codes.join(', ')}; other codes ${bad.length === 0 ? 'none' : bad.join(', ')}; socket errors ${flood.errors}, timeouts ${flood.timeouts}; 503 sampled with Retry-After ${retryAfterSeen}, without ${without}; /healthz ${health.ok} ok, ${health.failed} failed, slowest ${Math.round(health.worst)} ms`,
  );
  const alive = serverAlive();
  let recoveredAfter = -1;
  for (let second = 1; second <= 10; second++) {
    const window = await me({ connections: 4, duration: 1, overallRate: Math.max(10, Math.round(peak.requests.average * 0.3)) });
    if (window.latency.p99 <= Math.max(normal.latency.p99 * 1.5, normal.latency.p99 + 5)) {
      recoveredAfter = second;
      break;
    }
  }
  report(
    'overload: recovery',
    recoveredAfter > 0 ? `normal p99 again within ${recoveredAfter} s` : 'not recovered within 10 s',
    `server process ${alive ? 'alive' : 'DEAD'}`,
  );
  const passed = bad.length === 0 && without === 0 && health.failed === 0 && alive && recoveredAfter > 0 && recoveredAfter <= 5;
  report('overload: verdict', passed ? 'PASS' : 'FAIL');
  process.stdout.write(
    `\n| measurement | result | notes |\n|---|---|---|\n${results.map((r) => `| ${r.name} | ${r.value} | ${r.note} |`).join('\n')}\n`,
  );
  if (!passed) process.exitCode = 1;
}

function serverAlive(): boolean {
  try {
    process.kill(serverPid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One measured path: rate, latency percentiles and the server's own CPU per request. */
interface Measured {
  rate: number;
  p50: number;
  p99: number;
  cpuMs: number;
  failures: number;
  /** p99 with the load held at 70 % of `rate` (issue 14: ≤ 20 ms). */
  p99At70?: number;
  /** How long the unmeasured warm-up ran before V8 stopped compiling the path. */
  warmupSeconds?: number;
  /** CPU of the whole box per request (every process: load generator, server, stores). */
  boxCpuMs?: number;
}

let serverPid = 0;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime of a process in milliseconds, from /proc/<pid>/stat (fields 14 and 15). */
function cpuMillis(pid: number): number {
  return statCpuMillis(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * CPU milliseconds the whole box has been busy, all cores together, from the first line of
 * /proc/stat (user, nice, system, irq and softirq; not idle, iowait or time stolen by the host).
 * Per request it says what the path costs everything on the machine, stores and load generator
 * included: the bound for any rate on two shared cores (docs/benchmarks.md, "The insert ceiling").
 */
function boxBusyMillis(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]?.split(/\s+/) ?? [];
  // cpu  user nice system idle iowait irq softirq steal ...
  const busy = [1, 2, 3, 6, 7].reduce((sum, at) => sum + Number(fields[at] ?? 0), 0);
  return (busy * 1000) / CLOCK_TICKS;
}

/** utime + stime in milliseconds from a /proc stat line (a process's or one thread's). */
function statCpuMillis(stat: string): number {
  // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** CPU milliseconds of a process's threads: all of them, and V8's worker threads (named V8Worker). */
function threadCpuMillis(pid: number): { total: number; v8Workers: number } {
  let total = 0;
  let v8Workers = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const ms = statCpuMillis(stat);
    total += ms;
    if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === 'V8Worker') v8Workers += ms;
  }
  return { total, v8Workers };
}

/**
 * Runs `slice` unmeasured until the process at `pid` has stopped compiling (see WARMUP_SECONDS);
 * `slice(seconds)` loads the same path as the measured run. Returns the seconds it took.
 */
async function warmUp(pid: number, slice: (seconds: number) => Promise<unknown>, maxSeconds = WARMUP_MAX_SECONDS): Promise<number> {
  if (WARMUP_SECONDS <= 0) return 0;
  const started = Date.now();
  await slice(WARMUP_SECONDS);
  // V8 compiles in bursts with lulls between them: settled means several quiet slices in a row.
  let quiet = 0;
  while (quiet < WARMUP_QUIET_SLICES && (Date.now() - started) / 1000 < maxSeconds) {
    const before = threadCpuMillis(pid);
    const done = (await slice(WARMUP_SLICE_SECONDS)) as { rate?: number; requests?: { average: number } };
    const after = threadCpuMillis(pid);
    const share = (after.v8Workers - before.v8Workers) / Math.max(1, after.total - before.total);
    quiet = share <= WARMUP_SETTLED ? quiet + 1 : 0;
    if (process.env.BENCH_WARMUP_TRACE) {
      const rate = Math.round(done?.rate ?? done?.requests?.average ?? 0);
      process.stderr.write(`warm-up: ${rate}/s, V8 workers ${(share * 100).toFixed(1)} % of the CPU\n`);
    }
  }
  return Math.round((Date.now() - started) / 1000);
}

/**
 * The peak (32 connections as fast as they go), then the same requests held at 70 % of that
 * rate for p99 under a sustainable load.
 */
async function load(
  url: string,
  options: Partial<autocannon.Options>,
  /** Called before each run with its length (the DPoP case signs its single-use proofs here). */
  prepare?: (seconds: number) => Promise<void>,
): Promise<autocannon.Result & { measured: Measured }> {
  const run = async (seconds: number, more: Partial<autocannon.Options> = {}) => {
    await prepare?.(seconds);
    return autocannon({ url, connections: 32, ...options, duration: seconds, ...more } as autocannon.Options);
  };
  const warmupSeconds = await warmUp(serverPid, run);
  const cpuBefore = cpuMillis(serverPid);
  const result = await run(SECONDS);
  const cpu = cpuMillis(serverPid) - cpuBefore;
  const total = result.requests.total || 1;
  const held = await run(SECONDS, { overallRate: Math.max(1, Math.round(result.requests.average * 0.7)) });
  return Object.assign(result, {
    measured: {
      rate: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      cpuMs: cpu / total,
      failures: result.non2xx + result.errors + held.non2xx + held.errors,
      p99At70: held.latency.p99,
      warmupSeconds,
    },
  });
}

/**
 * The load generator for the refresh_token grant: each client refreshes in sequence with a
 * fresh DPoP proof signed per request (rotation makes every request depend on the last answer,
 * so autocannon's fixed requests cannot drive it). The server's CPU comes from /proc.
 */
async function refreshLoad(
  pid: number,
  tokenUrl: string,
  clientId: string,
  clients: RefreshClient[],
  options: { nonce?: { value?: string }; rate?: number; seconds?: number },
): Promise<Measured> {
  const latencies: number[] = [];
  let failures = 0;
  const cpuBefore = cpuMillis(pid);
  const boxBefore = boxBusyMillis();
  const started = Date.now();
  const end = started + (options.seconds ?? SECONDS) * 1000;
  const { rate } = options;
  const url = new URL(tokenUrl);
  // The latest DPoP nonce, kept from run to run (it rotates; every answer carries the current one).
  const nonce = options.nonce ?? {};
  // Held at `rate`: each client sends on its own schedule, spread over the interval.
  const interval = rate ? (clients.length * 1000) / rate : 0;
  await Promise.all(
    clients.map(async (client, index) => {
      const signProof = proofSigner(client);
      let due = started + (interval * index) / clients.length;
      while (Date.now() < end) {
        if (interval) {
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
          due += interval;
          if (Date.now() >= end) break;
        }
        const dpop = signProof('POST', tokenUrl, nonce.value);
        const sent = performance.now();
        const response = await postForm(
          url,
          { dpop },
          { grant_type: 'refresh_token', refresh_token: client.refreshToken, client_id: clientId },
        );
        const next = response.headers['dpop-nonce'];
        if (nonce.value && typeof next === 'string') nonce.value = next;
        const body = response.body;
        latencies.push(performance.now() - sent);
        if (response.status === 200 && typeof body.refresh_token === 'string') client.refreshToken = body.refresh_token;
        else failures++;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  const cpu = cpuMillis(pid) - cpuBefore;
  const box = boxBusyMillis() - boxBefore;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  const count = latencies.length || 1;
  return { rate: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), cpuMs: cpu / count, boxCpuMs: box / count, failures };
}

/** The refresh load at its peak, then held at 70 % of it for p99 under a sustainable load. */
async function refreshPeakAndHeld(
  pid: number,
  tokenUrl: string,
  clientId: string,
  clients: RefreshClient[],
  options: { nonce?: string; warmupMaxSeconds?: number },
): Promise<Measured> {
  const shared = { nonce: { value: options.nonce } };
  const warmupSeconds = await warmUp(
    pid,
    (seconds) => refreshLoad(pid, tokenUrl, clientId, clients, { ...shared, seconds }),
    options.warmupMaxSeconds,
  );
  const peak = await refreshLoad(pid, tokenUrl, clientId, clients, shared);
  const held = await refreshLoad(pid, tokenUrl, clientId, clients, { ...shared, rate: peak.rate * 0.7 });
  return { ...peak, failures: peak.failures + held.failures, p99At70: held.p99, warmupSeconds };
}

/** Starts bench/reference/oidc-provider.mjs in its own process and waits for its seeded tokens. */
async function startReference(
  store: 'memory' | 'mongo',
  mongoUrl: string,
  clients: { jwk: import('jose').JWK }[],
): Promise<{ child: ChildProcess; pid: number; tokenUrl: string; refreshTokens: string[] }> {
  const port = await freePort();
  const jkts = await Promise.all(clients.map((client) => calculateJwkThumbprint(client.jwk)));
  const child = spawn(process.execPath, ['bench/reference/oidc-provider.mjs'], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, PORT: String(port), STORE: store, MONGODB_URL: mongoUrl, SEED_JKTS: jkts.join(',') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<{ refreshTokens: string[] }>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = /READY (.*)\n/.exec(buffer);
      if (line) resolve(JSON.parse(line[1] as string));
    });
    child.on('exit', (code) => reject(new Error(`reference exited with ${code}`)));
    setTimeout(() => reject(new Error('reference did not start')), 60_000);
  });
  return { child, pid: child.pid as number, tokenUrl: `http://127.0.0.1:${port}/token`, refreshTokens: ready.refreshTokens };
}

/** The store's insert ceiling: 16 clients inserting small documents as fast as they go. */
async function insertRate(db: import('mongodb').Db): Promise<{ rate: number; boxCpuMs: number }> {
  const collection = db.collection<{ _id: string; n: number }>('bench_inserts');
  let done = 0;
  const boxBefore = boxBusyMillis();
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (Date.now() < end) {
        await collection.insertOne({ _id: randomBytes(16).toString('base64url'), n: 0 });
        done++;
      }
    }),
  );
  return { rate: done / SECONDS, boxCpuMs: (boxBusyMillis() - boxBefore) / (done || 1) };
}

/** The issue's table: Gatehouse beside the reference in the same run, as ratios. */
function comparisonTable(
  measuredRows: { path: string; gatehouse: Measured }[],
  refs: Partial<Record<'memory' | 'mongo', Measured>>,
  inserts: { rate: number; boxCpuMs: number },
): string {
  const fmt = (m: Measured) =>
    `${Math.round(m.rate)}/s, p50 ${m.p50} / p99 ${m.p99} ms, ${m.cpuMs.toFixed(2)} ms CPU${m.p99At70 === undefined ? '' : `; p99 at 70 % of peak ${m.p99At70} ms`}${m.failures ? `; ${m.failures} failures` : ''}${m.warmupSeconds === undefined ? '' : `; warm-up ${m.warmupSeconds} s`}`;
  const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}×` : '—');
  const lines = ['| path | Gatehouse | reference | ratio (rate; CPU/request) |', '|---|---|---|---|'];
  const healthz = measuredRows.find((r) => r.path.startsWith('GET /healthz'))?.gatehouse;
  for (const { path, gatehouse } of measuredRows) {
    if (path.startsWith('refresh_token')) {
      // A focused run (`BENCH_ONLY=refresh`) has nothing beside it: still the row, with its p99 at 70 %.
      if (!refs.memory && !refs.mongo && inserts.rate === 0) lines.push(`| ${path} | ${fmt(gatehouse)} | — | — |`);
      for (const [store, ref] of Object.entries(refs)) {
        if (!ref) continue;
        lines.push(
          `| ${path} | ${fmt(gatehouse)} | node-oidc-provider 9, ${store === 'memory' ? 'memory adapter' : 'MongoDB adapter, same FerretDB'}: ${fmt(ref)} | ${ratio(gatehouse.rate, ref.rate)}; ${ratio(gatehouse.cpuMs, ref.cpuMs)} |`,
        );
      }
      // At 80 % of the ceiling's rate, all cores busy, an exchange may cost the box at most this
      // much CPU, load generator and stores included (docs/benchmarks.md, "The insert ceiling").
      if (inserts.rate > 0) {
        const boxBudget = (cpus().length * 1000) / (0.8 * inserts.rate);
        lines.push(
          `| ${path} | ${fmt(gatehouse)}; box CPU ${gatehouse.boxCpuMs?.toFixed(2)} ms | store insert ceiling, 16 clients: ${Math.round(inserts.rate)}/s, box CPU ${inserts.boxCpuMs.toFixed(2)} ms per insert (80 % of it leaves an exchange at most ${boxBudget.toFixed(2)} ms of box CPU) | ${ratio(gatehouse.rate, inserts.rate)}; box CPU ${ratio(gatehouse.boxCpuMs ?? 0, inserts.boxCpuMs)} |`,
        );
      }
    } else if (path.startsWith('POST /oauth/introspect') && healthz) {
      const after = healthzAfter ?? healthz;
      const mean = { rate: (healthz.rate + after.rate) / 2, cpuMs: (healthz.cpuMs + after.cpuMs) / 2 };
      lines.push(
        `| ${path} | ${fmt(gatehouse)} | GET /healthz, same middleware, before: ${fmt(healthz)}; after: ${fmt(after)}; mean ${Math.round(mean.rate)}/s | ${ratio(gatehouse.rate, mean.rate)}; ${ratio(gatehouse.cpuMs, mean.cpuMs)} |`,
      );
    } else {
      lines.push(`| ${path} | ${fmt(gatehouse)} | — | — |`);
    }
  }
  return lines.join('\n');
}

async function updateRate(db: import('mongodb').Db): Promise<number> {
  const collection = db.collection<{ _id: string; n: number }>('bench_updates');
  await collection.insertMany(Array.from({ length: 3000 }, (_, i) => ({ _id: `d${i}`, n: 0 })));
  let done = 0;
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: 16 }, async (_, worker) => {
      let i = worker;
      while (Date.now() < end) {
        await collection.updateOne({ _id: `d${i % 3000}` }, { $inc: { n: 1 } });
        done++;
        i += 16;
      }
    }),
  );
  return done / SECONDS;
}

async function waitFor(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not become ready`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
