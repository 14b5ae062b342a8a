// Group commit of unique inserts (store/unique-inserts.ts) against the real FerretDB: each caller
// gets its own insertOne's answer however the group it went with fared, and a store that is gone
// fails every caller closed.
import { randomBytes } from 'node:crypto';
import { type CommandStartedEvent, type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AppError } from '../errors/index.js';
import { UniqueInserts } from './unique-inserts.js';

interface Doc {
  _id: string;
  parent: string;
  note?: string;
}

let client: MongoClient;
let db: Db;
const inserts: CommandStartedEvent[] = [];
const key = () => randomBytes(12).toString('base64url');

beforeAll(async () => {
  client = new MongoClient(`${inject('stack').mongoUrl}/unique_inserts_${Date.now()}`, { monitorCommands: true, retryWrites: false });
  client.on('commandStarted', (event) => {
    if (event.commandName === 'insert') inserts.push(event);
  });
  await client.connect();
  db = client.db();
  await db.collection<Doc>('docs').createIndex({ parent: 1 }, { unique: true });
});
afterAll(() => client?.close());

describe('UniqueInserts', () => {
  it('a burst goes to the store in fewer commands than documents, and every document is stored', async () => {
    const collection = db.collection<Doc>('docs');
    const group = new UniqueInserts(collection);
    const docs = Array.from({ length: 40 }, () => ({ _id: key(), parent: key() }));
    const before = inserts.length;
    const answers = await Promise.all(docs.map((doc) => group.insert(doc)));
    expect(answers).toEqual(docs.map(() => true));
    expect(await collection.countDocuments({ _id: { $in: docs.map((doc) => doc._id) } })).toBe(40);
    // The first goes alone, at once; the other 39 waited for it and went together.
    expect(inserts.length - before).toBe(2);
    expect(inserts.at(-1)?.command.documents).toHaveLength(39);
  });

  it('P4 of many claims on one key in one group exactly one wins, as with insertOne', async () => {
    const collection = db.collection<Doc>('docs');
    const group = new UniqueInserts(collection);
    const parent = key();
    const lone = group.insert({ _id: key(), parent: key() });
    const racing = Array.from({ length: 12 }, () => group.insert({ _id: key(), parent }));
    expect(await lone).toBe(true);
    const answers = await Promise.all(racing);
    expect(answers.filter(Boolean)).toHaveLength(1);
    expect(await collection.countDocuments({ parent })).toBe(1);
  });

  it('a key taken earlier is refused to its caller alone; the rest of its group is stored', async () => {
    const collection = db.collection<Doc>('docs');
    const taken = { _id: key(), parent: key() };
    await collection.insertOne(taken);
    const group = new UniqueInserts(collection);
    const lone = group.insert({ _id: key(), parent: key() });
    const others = [
      { _id: key(), parent: key() },
      { _id: key(), parent: taken.parent },
      { _id: taken._id, parent: key() },
      { _id: key(), parent: key() },
    ];
    const answers = await Promise.all([lone, ...others.map((doc) => group.insert(doc))]);
    expect(answers).toEqual([true, true, false, false, true]);
    expect(await collection.countDocuments({ _id: { $in: [others[0]?._id, others[3]?._id] as string[] } })).toBe(2);
  });

  it('B8 a store that cannot be reached fails every caller with 503 DEPENDENCY_UNAVAILABLE, then the next ones too', async () => {
    const gone = new MongoClient('mongodb://127.0.0.1:9/gone', { serverSelectionTimeoutMS: 300, retryWrites: false });
    try {
      const group = new UniqueInserts(gone.db().collection<Doc>('docs'));
      const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => group.insert({ _id: key(), parent: key() })));
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason;
        expect(reason).toBeInstanceOf(AppError);
        expect((reason as AppError).code).toBe('DEPENDENCY_UNAVAILABLE');
      }
      // Not stuck: a later insert gets its own answer, not a promise that never settles.
      await expect(group.insert({ _id: key(), parent: key() })).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    } finally {
      await gone.close();
    }
  });
});
