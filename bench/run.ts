/**
 * `npm run bench`: the performance budget of docs/benchmarks.md, measured on this machine, against a
 * throw-away real stack (Redis, FerretDB on PostgreSQL) and the real server process.
 * Prints a table; figures go into docs/benchmarks.md with the machine they came from.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
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

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
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

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  chmodSync(dataDir, 0o755);
  const stack = await startStack({ dataDir, persistent: false, ports: {}, log: () => undefined });
  const port = await freePort();
  const env = {
    NODE_ENV: 'test',
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
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const server = spawn(process.execPath, [...profile, '--import', 'tsx', '--conditions=gatehouse-source', 'server/src/main.ts'], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, ...env },
    stdio: ['ignore', process.env.BENCH_SERVER_LOG ? 'inherit' : 'ignore', 'inherit'],
  });
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
    const basic = `Basic ${Buffer.from(`${resourceId}:${resourceSecret}`).toString('base64')}`;

    report('raw ES256 verify (jose, one core)', `${Math.round(await rawVerifyRate())}/s`);
    const baseline = await load(`http://127.0.0.1:${port}/healthz`, {});
    report(
      'baseline: GET /healthz (whole middleware stack, no Redis, no auth)',
      `${Math.round(baseline.requests.average)}/s`,
      `p99 ${baseline.latency.p99} ms`,
    );

    let next = 0;
    const introspect = await load(`http://127.0.0.1:${port}/oauth/introspect`, {
      method: 'POST',
      setupClient: (client) => {
        client.setHeaders({ authorization: basic, 'content-type': 'application/x-www-form-urlencoded' });
        client.on('response', () => undefined);
      },
      requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, body: `token=${tokens[next++ % tokens.length]}` }) }],
    });
    report(
      'bearer token check (POST /oauth/introspect: verify + 1 Redis round trip)',
      `${Math.round(introspect.requests.average)}/s`,
      `p99 ${introspect.latency.p99} ms, non-2xx ${introspect.non2xx}`,
    );

    const list = await load(`http://127.0.0.1:${port}/api/v1/me/sessions?limit=5`, {
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => ({ ...request, headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` } }),
        },
      ],
    });
    report(
      'authenticated API read (GET /api/v1/me/sessions: + MongoDB user and list)',
      `${Math.round(list.requests.average)}/s`,
      `p99 ${list.latency.p99} ms, non-2xx ${list.non2xx}`,
    );

    // Paired clients: DPoP-bound access tokens and the refresh_token exchange.
    const origin = `http://127.0.0.1:${port}`;
    const meta = { requestId: 'bench', ip: '127.0.0.1', userAgent: 'bench' };
    const clients = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const { privateKey, publicKey } = await generateKeyPair('ES256');
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

    // Proofs are made before the run (each is single-use), so the load generator only sends.
    const meUrl = `${origin}/api/v1/me`;
    const first = clients[0] as (typeof clients)[number];
    const ath = createHash('sha256').update(first.accessToken).digest('base64url');
    const proofs = await Promise.all(Array.from({ length: Math.min(60_000, SECONDS * 4000) }, () => proof(first, 'GET', meUrl, { ath })));
    let nextProof = 0;
    const dpopRead = await load(meUrl, {
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => ({
            ...request,
            headers: { authorization: `DPoP ${first.accessToken}`, dpop: proofs[nextProof++ % proofs.length] as string },
          }),
        },
      ],
    });
    const bearerRead = await load(meUrl, {
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => ({ ...request, headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` } }),
        },
      ],
    });
    report(
      'DPoP API read (GET /api/v1/me: verify token + proof, 1 Redis round trip, MongoDB user read)',
      `${Math.round(dpopRead.requests.average)}/s`,
      `p99 ${dpopRead.latency.p99} ms, non-2xx ${dpopRead.non2xx} (replays after ${proofs.length} proofs); Bearer API token on the same route: ${Math.round(bearerRead.requests.average)}/s, p99 ${bearerRead.latency.p99} ms, non-2xx ${bearerRead.non2xx}`,
    );

    const tokenUrl = `${origin}/oauth/token`;
    const nonce = (await fetch(tokenUrl, { method: 'POST' })).headers.get('dpop-nonce') ?? '';
    let exchanges = 0;
    let failures = 0;
    const exchangeEnd = Date.now() + SECONDS * 1000;
    await Promise.all(
      clients.map(async (client) => {
        while (Date.now() < exchangeEnd) {
          const response = await fetch(tokenUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await proof(client, 'POST', tokenUrl, { nonce }) },
            body: new URLSearchParams({
              grant_type: 'refresh_token',
              refresh_token: client.refreshToken,
              client_id: 'gatehouse-extension',
            }),
          });
          const body = (await response.json()) as { refresh_token?: string };
          if (response.ok && body.refresh_token) {
            client.refreshToken = body.refresh_token;
            exchanges++;
          } else failures++;
        }
      }),
    );
    report(
      'exchange (refresh_token grant with DPoP: 1 MongoDB point read + 1 insert, lastSeen once a minute, 1 Redis round trip for the proof jti + 1 for revocation)',
      `${Math.round(exchanges / SECONDS)}/s`,
      `16 clients in sequence each, failures ${failures}`,
    );

    report('store ceiling: single-document updates (16 concurrent)', `${Math.round(await updateRate(mongo.db))}/s`);
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
}

function load(url: string, options: Partial<autocannon.Options>): Promise<autocannon.Result> {
  return autocannon({ url, connections: 32, duration: SECONDS, ...options } as autocannon.Options);
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
