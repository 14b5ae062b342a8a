import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { Db, MongoClient } from 'mongodb';
import supertest from 'supertest';
import { inject } from 'vitest';
import { createApp, type Services } from '../src/app.js';
import { type Config, loadConfig } from '../src/config/index.js';
import type { Clock, Deps } from '../src/context.js';
import { IpCipher, randomId } from '../src/crypto/index.js';
import { createLogger } from '../src/log/index.js';
import { connectMongo, createRedis, ensureIndexes, redisReady } from '../src/store/index.js';
import type { User } from '../src/users/index.js';
import { rememberSecret, reportApp } from './suite-audit.js';

/** The public origin the test IdP client is registered for (never actually fetched). */
export const TEST_ORIGIN = 'http://127.0.0.1:4555';
export const TEST_MASTER_KEY = randomBytes(32).toString('base64url');
export const TEST_FIRST_RUN_PASSWORD = `first-run-${randomBytes(24).toString('base64url')}`;
rememberSecret('the master key', TEST_MASTER_KEY);
rememberSecret('the bootstrap password', TEST_FIRST_RUN_PASSWORD);
rememberSecret('alice’s IdP password', 'alice-password');
rememberSecret('bob’s IdP password', 'bob-password');

/** A clock the test moves by hand. */
export class TestClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface TestApp {
  config: Config;
  deps: Deps;
  services: Services;
  db: Db;
  redis: Redis;
  clock: TestClock;
  http: ReturnType<typeof supertest>;
  /** The Koa app itself, e.g. to enumerate its routers' routes. */
  app: Awaited<ReturnType<typeof createApp>>['app'];
  callback: ReturnType<Awaited<ReturnType<typeof createApp>>['app']['callback']>;
  /** Log lines written by the app, for asserting that no secret leaks. */
  logLines: string[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Reuse this MongoDB connection (not closed or dropped by close()). */
  mongo?: { client: MongoClient; db: Db };
  /**
   * A second backend instance: same database name, Redis URL and key prefix as `sharedWith`
   * (so both see the same MongoDB and Redis), but its own connections, keyring, caches and
   * pub/sub subscriber, like another server process. Its close() leaves the database to the
   * first instance. `env` still overrides.
   */
  sharedWith?: TestApp;
}

/**
 * Builds the real app against the real Redis, FerretDB and development IdP the global setup
 * started. Each call gets its own database and Redis key prefix, so test files can run in
 * parallel without seeing each other's data.
 */
export async function createTestApp(env: Record<string, string | undefined> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const stack = inject('stack');
  rememberSecret('the IdP client secret', stack.idpClientSecret);
  const unique = randomBytes(6).toString('hex');
  const shared = options.sharedWith?.config;
  const config = loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL: TEST_ORIGIN,
    MONGODB_URL: `${stack.mongoUrl.replace(/\/$/, '')}/t_${unique}`,
    REDIS_URL: stack.redisUrl,
    REDIS_KEY_PREFIX: `t${unique}:`,
    MASTER_KEY: TEST_MASTER_KEY,
    FIRST_RUN_PASSWORD: TEST_FIRST_RUN_PASSWORD,
    OIDC_PROVIDERS: 'dev',
    OIDC_DEV_ISSUER: stack.idpIssuer,
    OIDC_DEV_CLIENT_ID: stack.idpClientId,
    OIDC_DEV_CLIENT_SECRET: stack.idpClientSecret,
    OIDC_DEV_NAME: 'Development IdP',
    OIDC_DEV_SCOPES: 'openid email profile groups',
    OIDC_DEV_ADMIN_GROUPS: 'admins',
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_MINUTE: '100000',
    RATE_LIMIT_SIGN_IN_PER_MINUTE: '100000',
    PAIRING_STARTS_PER_MINUTE: '100000',
    PAIRING_STARTS_GLOBAL_PER_MINUTE: '100000',
    ...(shared ? { MONGODB_URL: shared.MONGODB_URL, REDIS_URL: shared.REDIS_URL, REDIS_KEY_PREFIX: shared.REDIS_KEY_PREFIX } : {}),
    ...env,
  });
  const logLines: string[] = [];
  const log = createLogger(config.LOG_LEVEL, { write: (line: string) => void logLines.push(line) });
  const redis = createRedis(config.redis, { timeoutMs: config.REDIS_TIMEOUT_MS, keyPrefix: config.REDIS_KEY_PREFIX });
  redis.on('error', () => undefined);
  await redisReady(redis, 5000);
  const mongo = options.mongo ?? (await connectMongo(config.MONGODB_URL, config.MONGODB_TIMEOUT_MS));
  await ensureIndexes(mongo.db);
  const clock = new TestClock();
  const deps: Deps = { config, log, db: mongo.db, redis, clock, ipCipher: new IpCipher(config.masterKey) };
  const { app, services, close } = await createApp(deps);
  const callback = app.callback();
  return {
    config,
    deps,
    services,
    db: mongo.db,
    redis,
    clock,
    http: supertest(callback),
    app,
    callback,
    logLines,
    async close() {
      close();
      redis.disconnect();
      await reportApp(stack.reportDir, mongo.db, logLines).catch(() => undefined);
      if (!options.mongo) {
        if (!options.sharedWith) await mongo.db.dropDatabase().catch(() => undefined);
        await mongo.client.close();
      }
    },
  };
}

/** A user straight in MongoDB (no identity): for tests that need more people than the dev IdP has. */
export async function createUser(t: TestApp, fields: Partial<Pick<User, 'name' | 'roles' | 'status'>> = {}): Promise<User> {
  const now = t.clock.now();
  const user: User = {
    _id: randomId(),
    name: fields.name ?? 'Test User',
    status: fields.status ?? 'active',
    roles: fields.roles ?? ['user'],
    tokenVersion: 0,
    keySalt: IpCipher.newUserSalt(),
    createdAt: now,
    updatedAt: now,
  };
  if (!(await t.services.users.insertUser(user))) throw new Error('user insert conflict');
  return user;
}

/**
 * A browser session made the way the OIDC callback makes it (SessionService), without the IdP
 * round trip. Returns the `__Host-gatehouse=…` cookie pair, the token and the session id.
 */
export async function startBrowserSession(t: TestApp, user: User): Promise<{ cookie: string; token: string; sessionId: string }> {
  const fresh = (await t.services.users.findById(user._id)) ?? user;
  const { record, token } = await t.services.sessions.createBrowserSession(
    fresh,
    { requestId: 'test', ip: '127.0.0.1', userAgent: 'vitest' },
    { providerId: 'dev', upstreamSid: null },
  );
  return { cookie: `__Host-gatehouse=${token}`, token, sessionId: record._id };
}

/** A personal API token made through SessionService (as POST /api/v1/me/api-tokens does). */
export async function issueApiToken(
  t: TestApp,
  user: User,
  scopes: string[] = ['profile:read', 'sessions:read', 'sessions:revoke'],
  expiresInDays = 30,
): Promise<{ token: string; sessionId: string }> {
  const fresh = (await t.services.users.findById(user._id)) ?? user;
  const { record, token } = await t.services.sessions.createApiToken(
    fresh,
    { requestId: 'test', ip: '127.0.0.1', userAgent: 'vitest' },
    { name: 'test token', scopes, expiresInDays },
  );
  return { token, sessionId: record._id };
}

const GATEHOUSE_BIN = fileURLToPath(new URL('../bin/gatehouse.mjs', import.meta.url));

/**
 * Runs the real `gatehouse` command (server/bin/gatehouse.mjs) with the environment of app `t`,
 * asynchronously so the test worker's event loop keeps serving the app meanwhile.
 */
export async function runGatehouse(
  t: TestApp,
  args: string[],
  overrides: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    MONGODB_URL: t.config.MONGODB_URL,
    REDIS_URL: t.config.REDIS_URL,
    REDIS_KEY_PREFIX: t.config.REDIS_KEY_PREFIX,
    MASTER_KEY: TEST_MASTER_KEY,
    PUBLIC_URL: TEST_ORIGIN,
    ...overrides,
  };
  const child = spawn(process.execPath, [GATEHOUSE_BIN, ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}
