import { once } from 'node:events';
import { createApp } from './app.js';
import { AuditSealer } from './audit/index.js';
import { loadConfig } from './config/index.js';
import { systemClock } from './context.js';
import { IpCipher } from './crypto/index.js';
import { createHttpServer } from './http/index.js';
import { createLogger } from './log/index.js';
import { Metrics, startMetricsServer } from './metrics/index.js';
import { connectMongo, createRedis, ensureIndexes, startSweeper } from './store/index.js';
import { sweepExpired } from './sweeper.js';

/** Boots one Gatehouse instance: config, stores, app, HTTP server, graceful shutdown. */
async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    process.stderr.write(`Gatehouse cannot start: ${(error as Error).message}\n`);
    process.exit(78); // EX_CONFIG
  }
  const log = createLogger(config.LOG_LEVEL);
  for (const warning of config.warnings) log.warn({ warning }, 'config.unsafe_value');

  const redis = createRedis(config.redis, { timeoutMs: config.REDIS_TIMEOUT_MS, keyPrefix: config.REDIS_KEY_PREFIX });
  redis.on('error', (error) => log.warn({ err: { message: error.message } }, 'redis.error'));
  const { client: mongo, db } = await connectMongo(config.MONGODB_URL, config.MONGODB_TIMEOUT_MS);
  await ensureIndexes(db);

  const metrics = new Metrics({ providers: config.providers.map((provider) => provider.id) });
  metrics.watchRedis(redis);
  metrics.watchMongo(mongo);
  const deps = { config, log, db, redis, clock: systemClock, ipCipher: new IpCipher(config.masterKey), metrics };
  const { app, close: closeApp } = await createApp(deps);
  // The scraper's own listener, loopback by default: the public port serves no metrics unless
  // METRICS_TOKEN asks for it (docs/metrics.md).
  const metricsServer =
    config.METRICS_PORT === undefined
      ? null
      : await startMetricsServer(metrics, { port: config.METRICS_PORT, host: config.METRICS_HOST, token: config.METRICS_TOKEN });
  // Every instance runs a sealer; the lease lets one at a time extend the audit chain.
  const stopSealer = new AuditSealer(deps).start(5_000);
  const stopSweeper = startSweeper(() => sweepExpired(db, systemClock), log, 10 * 60_000);
  // Slow or never-finished uploads are cut off (docs/security-tests.md N3); keep-alive stays short.
  const server = createHttpServer(app.callback());
  server.listen(config.PORT, config.HOST);
  await once(server, 'listening');
  log.info({ url: config.publicOrigin, port: config.PORT, providers: config.providers.map((p) => p.id) }, 'server.started');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'server.stopping');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close();
    metricsServer?.close();
    server.closeIdleConnections();
    await once(server, 'close').catch(() => undefined);
    closeApp();
    stopSweeper();
    stopSealer();
    await Promise.allSettled([redis.quit(), mongo.close()]);
    log.info('server.stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error) => {
  process.stderr.write(`Gatehouse failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
