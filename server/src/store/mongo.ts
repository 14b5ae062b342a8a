import { type Db, MongoClient, type MongoClientOptions } from 'mongodb';

/**
 * The driver options. Options written in MONGODB_URL win over these defaults, so a replica set
 * gets what it needs from its URL (`replicaSet=…&w=majority&retryWrites=true&readPreference=primary`,
 * docs/deployment.md); without them the defaults suit FerretDB v1, which has no retryable
 * writes (the code claims single-use things by unique inserts and retries where it must).
 */
export function mongoClientOptions(url: string, timeoutMs: number): MongoClientOptions {
  const inUrl = new Set([...new URL(url).searchParams.keys()].map((key) => key.toLowerCase()));
  return {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs * 5,
    maxPoolSize: 32,
    appName: 'gatehouse',
    // Command events feed the latency histogram (docs/metrics.md).
    monitorCommands: true,
    ...(inUrl.has('retrywrites') ? {} : { retryWrites: false }),
    ...(inUrl.has('w') ? {} : { writeConcern: { w: 'majority' as const } }),
    ...(inUrl.has('readpreference') ? {} : { readPreference: 'primary' as const }),
  };
}

/**
 * Connects to MongoDB (or FerretDB). Every operation is bounded: server selection and sockets
 * time out, so an unreachable database turns into a 503 instead of a hung request.
 */
export async function connectMongo(url: string, timeoutMs: number): Promise<{ client: MongoClient; db: Db }> {
  const client = new MongoClient(url, mongoClientOptions(url, timeoutMs));
  await client.connect();
  return { client, db: client.db() };
}
