import { type Db, MongoClient } from 'mongodb';

/**
 * Connects to MongoDB (or FerretDB). Every operation is bounded: server selection and sockets
 * time out, so an unreachable database turns into a 503 instead of a hung request.
 */
export async function connectMongo(url: string, timeoutMs: number): Promise<{ client: MongoClient; db: Db }> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs * 5,
    maxPoolSize: 32,
    retryWrites: false, // FerretDB v1 has no retryable writes; the code retries where it must.
    appName: 'gatehouse',
  });
  await client.connect();
  return { client, db: client.db() };
}
