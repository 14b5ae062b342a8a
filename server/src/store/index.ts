/** MongoDB and Redis clients, collection names and indexes. */
export { type Affected, AnnouncedCache, CacheSubscription } from './announced-cache.js';
export { COLLECTIONS, ensureIndexes } from './collections.js';
export { decodeIdCursor, decodeTimeCursor, encodeCursor } from './cursor.js';
export { connectMongo } from './mongo.js';
export { createRedis, duplicateForSubscribe, redisReady, scanKeys, waitForReplicas } from './redis.js';
export { RedisHealth, redisHealth } from './redis-health.js';
export { startSweeper } from './sweeper.js';
export { UniqueInserts } from './unique-inserts.js';
