/**
 * `npm run soak`: sustained mixed load against the real server process — sign-ins through the
 * development IdP, refreshes of paired clients, API reads and revocations — with the server's
 * RSS, heap, event-loop delay, open handles and sockets (bench/soak-probe.mjs) and Redis's
 * client count sampled every SOAK_INTERVAL_SECONDS (10) into a CSV and an SVG chart.
 * SOAK_MINUTES (30) sets the length, SOAK_OUT (bench/out) where the files go. Passes when
 * every request succeeded and RSS after warm-up grew by less than 10 %; exits 1 otherwise.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { signInAtDevIdp } from '../scripts/dev-idp/index.mjs';
import { freePort, startStack } from '../scripts/stack/index.mjs';
import { createApp } from '../server/src/app.js';
import { loadConfig } from '../server/src/config/index.js';
import { systemClock } from '../server/src/context.js';
import { IpCipher } from '../server/src/crypto/index.js';
import { createLogger } from '../server/src/log/index.js';
import { connectMongo, createRedis, ensureIndexes, redisReady } from '../server/src/store/index.js';
import { builtServerArgs } from './built-server.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const INTERVAL_MS = Number(process.env.SOAK_INTERVAL_SECONDS ?? 10) * 1000;
const OUT = process.env.SOAK_OUT ?? join(new URL('.', import.meta.url).pathname, 'out');
/** Requests per second each kind of load aims for: modest, so a loaded 2-core box keeps up. */
const PACE_MS = Number(process.env.SOAK_PACE_MS ?? 20);

interface Sample {
  at: number;
  rss: number;
  heapUsed: number;
  /** What V8 has reserved for its heap; it steps up once or twice as the load settles. */
  heapTotal?: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  handles: number;
  sockets: number;
  /** The server's own connections to MongoDB and Redis (bench/soak-probe.mjs). */
  mongoConnections?: number;
  redisConnections?: number;
  redisClients?: number;
}

export interface SoakResult {
  samples: Sample[];
  requests: Record<string, number>;
  errors: Record<string, number>;
  rssGrowth: number;
  passed: boolean;
  csv: string;
  svg: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function soak(minutes = MINUTES): Promise<SoakResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-soak-'));
  chmodSync(dataDir, 0o755);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const stack = await startStack({
    dataDir,
    persistent: false,
    ports: {},
    idp: { clients: [{ client_id: 'gatehouse-soak', client_secret: clientSecret, redirect_uris: [`${origin}/auth/dev/callback`] }] },
    log: () => undefined,
  });
  const samplesFile = join(dataDir, 'samples.jsonl');
  writeFileSync(samplesFile, '');
  const env = {
    NODE_ENV: 'test',
    PORT: String(port),
    PUBLIC_URL: origin,
    MONGODB_URL: `${stack.mongoUrl}/soak`,
    REDIS_URL: stack.redisUrl,
    MASTER_KEY: randomBytes(32).toString('base64url'),
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_SIGN_IN_PER_MINUTE: '100000',
    OIDC_PROVIDERS: 'dev',
    OIDC_DEV_ISSUER: stack.idpIssuer ?? '',
    OIDC_DEV_CLIENT_ID: 'gatehouse-soak',
    OIDC_DEV_CLIENT_SECRET: clientSecret,
    OIDC_DEV_NAME: 'Development IdP',
    OIDC_DEV_SCOPES: 'openid email profile groups',
    LOG_LEVEL: 'warn',
    SOAK_SAMPLES: samplesFile,
    SOAK_INTERVAL_MS: String(INTERVAL_MS),
    SOAK_MONGO_PORT: new URL(stack.mongoUrl).port,
    SOAK_REDIS_PORT: new URL(stack.redisUrl).port,
  };
  const server = spawn(
    process.execPath,
    // --expose-gc: the probe collects garbage before each sample, so RSS shows what is kept, not
    // what a collection has not reached yet.
    ['--expose-gc', '--import', './bench/soak-probe.mjs', ...builtServerArgs()],
    { cwd: new URL('..', import.meta.url), env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const requests: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const count = (kind: string, ok: boolean) => {
    requests[kind] = (requests[kind] ?? 0) + 1;
    if (!ok) errors[kind] = (errors[kind] ?? 0) + 1;
  };
  try {
    await waitFor(`${origin}/readyz`);
    const config = loadConfig(env);
    const redis = createRedis(config.REDIS_URL, { timeoutMs: 2000, keyPrefix: config.REDIS_KEY_PREFIX });
    await redisReady(redis, 5000);
    const mongo = await connectMongo(config.MONGODB_URL, 5000);
    await ensureIndexes(mongo.db);
    const { services, close } = await createApp({
      config,
      log: createLogger('warn'),
      db: mongo.db,
      redis,
      clock: systemClock,
      ipCipher: new IpCipher(config.masterKey),
    });
    const meta = { requestId: 'soak', ip: '127.0.0.1', userAgent: 'soak' };
    const user = {
      _id: 'soakuser00001',
      name: 'Soak',
      status: 'active' as const,
      roles: ['user' as const],
      tokenVersion: 0,
      keySalt: IpCipher.newUserSalt(),
      createdAt: new Date(),
      updatedAt: new Date(),
    };
    await services.users.insertUser(user);
    const newToken = async () =>
      (
        await services.sessions.createApiToken(user, meta, {
          name: `soak-${randomBytes(4).toString('hex')}`,
          scopes: ['profile:read'],
          expiresInDays: 1,
        })
      ).token;
    const tokens = await Promise.all(Array.from({ length: 8 }, newToken));
    const clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const { privateKey, publicKey } = await generateKeyPair('ES256');
        const jwk = await exportJWK(publicKey);
        const jkt = await calculateJwkThumbprint(jwk);
        const started = await services.pairing.start({ clientId: 'gatehouse-extension', scope: undefined, jkt }, meta);
        await services.pairing.decide(started.user_code, user, 'approve', meta);
        const issued = await services.pairing.redeemDeviceCode(
          { deviceCode: started.device_code, clientId: 'gatehouse-extension', jkt },
          meta,
        );
        return { privateKey, jwk, refreshToken: issued.refresh_token };
      }),
    );
    const tokenUrl = `${origin}/oauth/token`;
    // Every answer of the token endpoint carries the current DPoP nonce (it rotates every five
    // minutes): a client keeps the latest one, as the extension does.
    let nonce = (await fetch(tokenUrl, { method: 'POST' })).headers.get('dpop-nonce') ?? '';

    const end = Date.now() + minutes * 60_000;
    const loop = async (kind: string, pace: number, step: () => Promise<boolean>) => {
      while (Date.now() < end) {
        const ok = await step().catch(() => false);
        count(kind, ok);
        await sleep(pace);
      }
    };
    const read = async () => {
      const token = tokens[Math.floor(Math.random() * tokens.length)] as string;
      const response = await fetch(`${origin}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      return response.ok;
    };
    const revoke = async () => {
      // Taken out of the pool before it is revoked, so no read uses it afterwards.
      const [old] = tokens.splice(0, 1);
      const response = await fetch(`${origin}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: old as string }),
      });
      await response.arrayBuffer();
      tokens.push(await newToken());
      const refused = await fetch(`${origin}/api/v1/me`, { headers: { authorization: `Bearer ${old}` } });
      await refused.arrayBuffer();
      return response.ok && refused.status === 401;
    };
    const refresh = (client: (typeof clients)[number]) => async () => {
      const dpop = await new SignJWT({ htm: 'POST', htu: tokenUrl, jti: randomBytes(16).toString('base64url'), nonce })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: client.jwk })
        .setIssuedAt()
        .sign(client.privateKey);
      const response = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', dpop },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: client.refreshToken, client_id: 'gatehouse-extension' }),
      });
      nonce = response.headers.get('dpop-nonce') ?? nonce;
      const body = (await response.json()) as { refresh_token?: string };
      if (response.ok && body.refresh_token) client.refreshToken = body.refresh_token;
      return response.ok;
    };
    const signIn = async () => {
      const start = await fetch(`${origin}/auth/dev/login`, { redirect: 'manual' });
      const loginCookie = (start.headers.getSetCookie().find((c) => c.startsWith('__Host-gatehouse-login=')) ?? '').split(';')[0];
      const back = new URL(
        await signInAtDevIdp(start.headers.get('location') ?? '', { login: 'alice@example.com', password: 'alice-password' }),
      );
      const done = await fetch(`${origin}${back.pathname}${back.search}`, { redirect: 'manual', headers: { cookie: loginCookie ?? '' } });
      const session = (done.headers.getSetCookie().find((c) => c.startsWith('__Host-gatehouse=')) ?? '').split(';')[0];
      if (done.status !== 302 || !session) return false;
      const me = await fetch(`${origin}/api/v1/me`, { headers: { cookie: session } });
      await me.arrayBuffer();
      return me.ok;
    };
    const redisClients: { at: number; clients: number }[] = [];
    const sampler = (async () => {
      while (Date.now() < end) {
        await sleep(INTERVAL_MS);
        const list = (await redis.client('LIST').catch(() => '')) as string;
        redisClients.push({ at: Date.now(), clients: list.split('\n').filter(Boolean).length });
      }
    })();
    await Promise.all([
      loop('read', PACE_MS, read),
      loop('read', PACE_MS, read),
      loop('revoke', PACE_MS * 25, revoke),
      loop('sign-in', PACE_MS * 25, signIn),
      ...clients.map((client) => loop('refresh', PACE_MS * 5, refresh(client))),
      sampler,
    ]);
    close();
    redis.disconnect();
    await mongo.client.close();

    const samples = readFileSync(samplesFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Sample)
      .map((sample) => ({ ...sample, redisClients: redisClients.find((r) => Math.abs(r.at - sample.at) < INTERVAL_MS / 2)?.clients }));
    const rssGrowth = growth(samples);
    const csv = toCsv(samples);
    const svg = chart(samples);
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'soak.csv'), csv);
    writeFileSync(join(OUT, 'soak.svg'), svg);
    const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
    const result = { samples, requests, errors, rssGrowth, passed: errorCount === 0 && rssGrowth < 0.1, csv, svg };
    writeFileSync(join(OUT, 'soak.json'), JSON.stringify({ ...result, csv: undefined, svg: undefined }, null, 2));
    return result;
  } finally {
    server.kill('SIGTERM');
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** RSS follows a step of V8's reserved heap over the next 15 s or so, as pages are touched. */
const RSS_SETTLE_MS = 20_000;

/**
 * RSS growth after warm-up: the median of the last quarter of the remaining samples against the
 * median of its first quarter. Medians, so that one sample taken just before a major GC does not
 * decide the verdict.
 *
 * Warm-up is the first minute or 20 % of the run, whichever is longer, and also lasts until V8 has
 * last stepped up its reserved heap within the first half of the run. Under this load V8 grows its
 * young generation once, 60–85 s in, by 64 MiB reserved (RSS +30 MiB) while the heap in use stays
 * flat: in a 3-minute run that step sometimes fell after the first minute and read as 8–20 % growth,
 * on this round's code and on the previous one alike (docs/benchmarks.md, "Soak"). Steps in the
 * second half always count, so a leak that keeps the heap growing still fails.
 */
export function growth(samples: Pick<Sample, 'rss' | 'at' | 'heapTotal'>[]): number {
  const t0 = samples[0]?.at ?? 0;
  const span = (samples.at(-1)?.at ?? t0) - t0;
  let warmUp = Math.max(60_000, span * 0.2);
  for (let i = 1; i < samples.length; i++) {
    const [before, after] = [samples[i - 1]?.heapTotal, samples[i]?.heapTotal];
    const at = (samples[i]?.at ?? t0) - t0;
    if (before && after && after > before * 1.1 && at <= span / 2) warmUp = Math.max(warmUp, at + RSS_SETTLE_MS);
  }
  const steady = samples.filter((s) => s.at - t0 >= warmUp);
  if (steady.length < 2) return 0;
  const quarter = Math.max(1, Math.floor(steady.length / 4));
  const median = (list: Pick<Sample, 'rss'>[]) => {
    const sorted = list.map((s) => s.rss).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  };
  const first = median(steady.slice(0, quarter));
  const last = median(steady.slice(-quarter));
  return first > 0 ? (last - first) / first : 0;
}

function toCsv(samples: Sample[]): string {
  const start = samples[0]?.at ?? 0;
  const rows = samples.map((s) =>
    [
      ((s.at - start) / 1000).toFixed(0),
      (s.rss / 2 ** 20).toFixed(1),
      (s.heapUsed / 2 ** 20).toFixed(1),
      s.eventLoopP99Ms.toFixed(1),
      s.eventLoopMaxMs.toFixed(1),
      s.handles,
      s.sockets,
      s.mongoConnections ?? '',
      s.redisConnections ?? '',
      s.redisClients ?? '',
    ].join(','),
  );
  return `seconds,rss_mib,heap_used_mib,event_loop_p99_ms,event_loop_max_ms,handles,tcp_sockets,mongodb_connections,redis_connections,redis_clients\n${rows.join('\n')}\n`;
}

/** A hand-rolled SVG line chart: one panel per series, each scaled to its own maximum. */
function chart(samples: Sample[]): string {
  const series: [string, (s: Sample) => number, string][] = [
    ['RSS (MiB)', (s) => s.rss / 2 ** 20, '#1f77b4'],
    ['heap used (MiB)', (s) => s.heapUsed / 2 ** 20, '#2ca02c'],
    ['event-loop delay p99 (ms)', (s) => s.eventLoopP99Ms, '#d62728'],
    ['open handles', (s) => s.handles, '#9467bd'],
    ['server TCP sockets', (s) => s.sockets, '#8c564b'],
    ['server connections to MongoDB', (s) => s.mongoConnections ?? 0, '#17becf'],
    ['server connections to Redis', (s) => s.redisConnections ?? 0, '#bcbd22'],
    ['Redis clients', (s) => s.redisClients ?? 0, '#ff7f0e'],
  ];
  const width = 720;
  const panel = 110;
  const start = samples[0]?.at ?? 0;
  const span = Math.max(1, (samples.at(-1)?.at ?? 1) - start);
  const panels = series.map(([label, value, colour], index) => {
    const top = index * panel + 10;
    const max = Math.max(1e-9, ...samples.map(value)) * 1.1;
    const points = samples
      .map((s) => `${(50 + ((s.at - start) / span) * (width - 60)).toFixed(1)},${(top + 90 - (value(s) / max) * 80).toFixed(1)}`)
      .join(' ');
    return `<g><text x="50" y="${top + 8}" font-size="12">${label} (max ${max.toFixed(1)})</text><line x1="50" y1="${top + 90}" x2="${width - 10}" y2="${top + 90}" stroke="#999"/><polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points}"/></g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${series.length * panel + 30}" font-family="sans-serif" role="img" aria-label="Soak samples"><title>Soak: server RSS, heap, event-loop delay, handles, sockets, MongoDB and Redis connections and Redis clients over time</title><rect width="100%" height="100%" fill="white"/>${panels.join('')}<text x="50" y="${series.length * panel + 22}" font-size="11">${(span / 60_000).toFixed(1)} minutes, one sample every ${INTERVAL_MS / 1000} s</text></svg>\n`;
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
    await sleep(200);
  }
  throw new Error(`${url} did not become ready`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  soak()
    .then((result) => {
      process.stdout.write(
        `requests ${JSON.stringify(result.requests)}\nerrors ${JSON.stringify(result.errors)}\nRSS growth after warm-up ${(result.rssGrowth * 100).toFixed(1)} %\n${result.csv}\n${result.passed ? 'PASS' : 'FAIL'}\n`,
      );
      if (!result.passed) process.exitCode = 1;
    })
    .catch((error) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
}
