// The connection options a replica set needs come from MONGODB_URL and win over the FerretDB
// defaults (docs/deployment.md, "MongoDB in production").
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { mongoClientOptions } from './mongo.js';

/** What the driver will really use: it merges the URL and the options without connecting. */
function effective(url: string) {
  const client = new MongoClient(url, mongoClientOptions(url, 2000));
  const { retryWrites, writeConcern, readPreference, serverSelectionTimeoutMS } = client.options;
  return { retryWrites, w: writeConcern?.w, readPreference: readPreference.mode, serverSelectionTimeoutMS };
}

describe('MongoDB connection options', () => {
  it('a replica-set URL gets retryable writes, majority writes and primary reads as it asks', () => {
    const url = 'mongodb://db-1,db-2,db-3/gatehouse?replicaSet=rs0&w=majority&retryWrites=true&readPreference=primary';
    expect(effective(url)).toEqual({ retryWrites: true, w: 'majority', readPreference: 'primary', serverSelectionTimeoutMS: 2000 });
  });

  it('a plain URL (FerretDB) gets no retryable writes, and still majority writes and primary reads', () => {
    expect(effective('mongodb://127.0.0.1:27018/gatehouse')).toEqual({
      retryWrites: false,
      w: 'majority',
      readPreference: 'primary',
      serverSelectionTimeoutMS: 2000,
    });
  });

  it('what the URL says wins, whatever it says', () => {
    expect(effective('mongodb://h/gatehouse?retryWrites=false&w=1&readPreference=primaryPreferred')).toMatchObject({
      retryWrites: false,
      w: 1,
      readPreference: 'primaryPreferred',
    });
  });
});
