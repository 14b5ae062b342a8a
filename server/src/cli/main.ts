import { parseArgs } from 'node:util';
import { AuditLog } from '../audit/index.js';
import { loadConfig } from '../config/index.js';
import { systemClock } from '../context.js';
import { IpCipher } from '../crypto/index.js';
import { createLogger } from '../log/index.js';
import { connectMongo, createRedis, ensureIndexes, redisReady } from '../store/index.js';
import { longestTokenLifetimeMs } from '../tokens/lifetimes.js';
import { runKeysCommand } from './keys.js';

const USAGE = `usage: gatehouse <command>

  keys list                 the signing keys, newest first
  keys rotate               make a new active key; the previous one stays trusted until pruned
  keys prune                drop retired keys older than the longest token lifetime
  keys import <file>        bring an existing P-256 key (PKCS#8 PEM or private JWK) in as the active key

The environment is the server's (MONGODB_URL, REDIS_URL, MASTER_KEY, …).`;

/** The operator's command line: same configuration and stores as the server, actor `cli`. */
async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return positionals.length === 0 && !values.help ? 64 : 0;
  }
  const config = loadConfig(process.env);
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const redis = createRedis(config.REDIS_URL, { timeoutMs: config.REDIS_TIMEOUT_MS, keyPrefix: config.REDIS_KEY_PREFIX });
  redis.on('error', () => undefined);
  const { client, db } = await connectMongo(config.MONGODB_URL, config.MONGODB_TIMEOUT_MS);
  try {
    await ensureIndexes(db);
    await redisReady(redis, 2000).catch(() => log.warn('cli.redis_unavailable'));
    const deps = { config, log, db, redis, clock: systemClock, ipCipher: new IpCipher(config.masterKey) };
    const audit = new AuditLog(deps);
    const [area, ...rest] = positionals;
    if (area !== 'keys') throw new Error(USAGE);
    const { lines } = await runKeysCommand(deps, audit, rest, longestTokenLifetimeMs(config));
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    redis.disconnect();
    await client.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`gatehouse: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
