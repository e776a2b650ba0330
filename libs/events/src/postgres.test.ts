import { createIdGenerator, createManualClock, createSeededRandom } from '@jamey/core';
import { type Database, migrate, openDatabase, silentLogger } from '@jamey/data';
import { createTestSchema, describeWithInfra, TEST_DATABASE_URL, type TestSchema } from '@jamey/data/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  catalog,
  createEventConsumer,
  createInProcessTransport,
  createOutbox,
  createOutboxRelay,
  eventsMigrationsDir,
  eventsMigrationsTable,
  type ReceivedMessage,
} from './index.js';

describeWithInfra([TEST_DATABASE_URL], 'outbox relay on real Postgres', (env) => {
  const clock = createManualClock();
  const outbox = createOutbox({ source: 'soul', clock, ids: createIdGenerator(clock, createSeededRandom(11)) });
  let schema: TestSchema;
  let db: Database;

  beforeAll(async () => {
    schema = await createTestSchema(env.JAMEY_TEST_DATABASE_URL!, 'events_pg');
    db = await openDatabase({ url: schema.url, poolSize: 6 });
    await migrate(db, { dir: eventsMigrationsDir, table: eventsMigrationsTable });
    await db.query('CREATE TABLE entities (id text PRIMARY KEY)');
  });
  afterAll(async () => {
    await db?.close();
    await schema?.drop();
  });

  const upsert = (id: string, fail = false) =>
    db.transaction(async (tx) => {
      await tx.query('INSERT INTO entities (id) VALUES ($1)', [id]);
      await outbox.append(tx, { definition: catalog['soul.entity_upserted'], subject: id, data: { created: true, entity: undefined } });
      if (fail) throw new Error('rolled back');
    });

  it('appends atomically with the state change', async () => {
    await expect(upsert('gone', true)).rejects.toThrow('rolled back');
    await upsert('kept');
    const { rows } = await db.query<{ key: string }>('SELECT key FROM outbox');
    expect(rows.map((r) => r.key)).toEqual(['kept']);
    await db.query('DELETE FROM outbox');
  });

  it('lets only one of several relays publish a row, in order, even when they drain at once', async () => {
    const bus = createInProcessTransport({ clock });
    const got: ReceivedMessage[] = [];
    await bus.subscribe({ groupId: 'collector', topics: ['jamey.soul.events.v1'], handler: async (m) => void got.push(m) });
    const consumer = createEventConsumer({
      db, transport: bus, groupId: 'audit', topics: ['jamey.soul.events.v1'], logger: silentLogger, clock,
      handle: async () => undefined,
    });
    await consumer.start();
    const keys = Array.from({ length: 40 }, (_, i) => `e-${String(i).padStart(2, '0')}`);
    for (const key of keys) await upsert(key);

    const relays = [1, 2, 3].map(() => createOutboxRelay({ db, transport: bus, logger: silentLogger, clock, batchSize: 7 }));
    await Promise.all(relays.map((relay) => relay.drain()));

    expect(got.map((m) => m.key)).toEqual(keys); // each exactly once, in commit order
    expect(await relays[0]!.backlog()).toBe(0);
    const processed = await db.query('SELECT 1 FROM processed_events WHERE group_id = $1', ['audit']);
    expect(processed.rowCount).toBe(40);
    await consumer.stop();
  });
});
