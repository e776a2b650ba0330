import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIdGenerator, createManualClock, createSeededRandom, delay, isUuid } from '@jamey/core';
import { type Database, migrate, openDatabase, silentLogger } from '@jamey/data';
import { waitFor } from '@jamey/data/testing';
import { common } from '@jamey/proto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  catalog,
  type ConsumedEvent,
  createEventConsumer,
  createInProcessTransport,
  createOutbox,
  createOutboxRelay,
  deadLetterTopicFor,
  type EventsObservation,
  type EventTransport,
  eventsMigrationsDir,
  eventsMigrationsTable,
  type ReceivedMessage,
} from './index.js';

// One PGlite for the file: opening one costs seconds.
let db: Database;
let dir: string;
const clock = createManualClock(Date.UTC(2026, 0, 1));
const ids = createIdGenerator(clock, createSeededRandom(7));
const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const outbox = createOutbox({ source: 'memory', clock, ids, getTraceContext: () => ({ traceparent, tracestate: 'k=v' }) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jamey-events-'));
  db = await openDatabase({ url: `pglite://${dir}` });
  await migrate(db, { dir: eventsMigrationsDir, table: eventsMigrationsTable });
  await db.query('CREATE TABLE memories (id text PRIMARY KEY)');
  await db.query('CREATE TABLE seen (event_id text PRIMARY KEY, memory_id text NOT NULL)');
});
afterAll(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await db.query('DELETE FROM outbox; DELETE FROM processed_events; DELETE FROM memories; DELETE FROM seen');
});

/** Stores a memory and its `memory.deleted`-style event in one transaction (the producer side). */
async function storeMemory(id: string, fail = false): Promise<common.EventEnvelope> {
  return db.transaction(async (tx) => {
    await tx.query('INSERT INTO memories (id) VALUES ($1)', [id]);
    const envelope = await outbox.append(tx, { definition: catalog['memory.deleted'], subject: id, data: { memoryId: id } });
    if (fail) throw new Error('state change failed');
    return envelope;
  });
}

/** Records every handled event in `seen`, through the consumer's transaction. */
const recordSeen = async (event: ConsumedEvent, tx: { query: Database['query'] }) => {
  if (event.type !== 'memory.deleted') throw new Error(`unexpected ${event.type}`);
  await tx.query('INSERT INTO seen (event_id, memory_id) VALUES ($1, $2)', [event.envelope.id, event.data.memoryId]);
};

const seenIds = async () => (await db.query<{ memory_id: string }>('SELECT memory_id FROM seen ORDER BY memory_id')).rows.map((r) => r.memory_id);

/** Subscribes a plain group to a topic and collects what it receives. */
async function collect(bus: EventTransport, topic: string): Promise<ReceivedMessage[]> {
  const got: ReceivedMessage[] = [];
  await bus.subscribe({ groupId: `collector-${topic}`, topics: [topic], handler: async (m) => void got.push(m) });
  return got;
}

describe('outbox', () => {
  it('commits the event with the state change, and rolls it back with it', async () => {
    await expect(storeMemory('m-rolled-back', true)).rejects.toThrow('state change failed');
    expect((await db.query('SELECT * FROM outbox')).rowCount).toBe(0);

    const envelope = await storeMemory('m-1');
    expect(isUuid(envelope.id)).toBe(true);
    expect(envelope.id[14]).toBe('7');
    expect(envelope).toMatchObject({ type: 'memory.deleted', source: 'memory', subject: 'm-1', traceparent, tracestate: 'k=v' });
    expect(envelope.dataSchema).toBe('jamey.memory.v1.MemoryDeleted');
    expect(envelope.time?.getTime()).toBe(clock.now());

    const { rows } = await db.query<{ topic: string; key: string; envelope: Buffer; headers: Record<string, string>; published_at: Date | null }>(
      'SELECT topic, key, envelope, headers, published_at FROM outbox',
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ topic: 'jamey.memory.events.v1', key: 'm-1', published_at: null });
    expect(rows[0]?.headers).toEqual({ 'x-event-id': envelope.id, 'x-event-type': 'memory.deleted', traceparent, tracestate: 'k=v' });
    expect(common.EventEnvelope.decode(rows[0]!.envelope)).toEqual(envelope);
  });

  it('refuses events of another source', async () => {
    await expect(
      db.transaction((tx) => outbox.append(tx, { definition: catalog['soul.trust_changed'], subject: 'e', data: { entityId: 'e', previousTrust: 0, trust: 1, interactionId: 'i', valence: 0 } })),
    ).rejects.toThrow(TypeError);
  });
});

describe('relay and consumer over the in-process bus', () => {
  it('publishes in order, consumers apply each event once, and rows are marked published', async () => {
    const bus = createInProcessTransport({ clock });
    const observed: EventsObservation[] = [];
    const consumer = createEventConsumer({ db, transport: bus, groupId: 'audit', topics: [catalog['memory.deleted'].topic], handle: recordSeen, logger: silentLogger, clock, onEvent: (e) => observed.push(e) });
    const order: string[] = [];
    await bus.subscribe({ groupId: 'order-check', topics: ['jamey.memory.events.v1'], handler: async (m) => void order.push(m.key) });
    await consumer.start();
    const relay = createOutboxRelay({ db, transport: bus, logger: silentLogger, clock, batchSize: 3, onEvent: (e) => observed.push(e) });

    const keys = ['m-a', 'm-b', 'm-c', 'm-d', 'm-e', 'm-f', 'm-g'];
    for (const key of keys) await storeMemory(key);
    expect(await relay.backlog()).toBe(7);
    await relay.drain();

    expect(order).toEqual(keys);
    expect(await seenIds()).toEqual(keys);
    expect(await relay.backlog()).toBe(0);
    expect((await db.query('SELECT 1 FROM outbox WHERE published_at IS NOT NULL')).rowCount).toBe(7);
    expect(observed.filter((e) => e.kind === 'published').map((e) => (e.kind === 'published' ? e.count : 0))).toEqual([3, 3, 1]);
    expect(observed.filter((e) => e.kind === 'consumed')).toHaveLength(7);

    // Publishing the same rows again (as after a crash before marking them) changes nothing.
    await db.query('UPDATE outbox SET published_at = NULL');
    await relay.drain();
    expect(await seenIds()).toEqual(keys);
    expect(observed.filter((e) => e.kind === 'duplicate')).toHaveLength(7);
    await consumer.stop();
  });

  it('keeps rows and their order when sends fail, retrying with backoff after wake()', async () => {
    const bus = createInProcessTransport({ clock });
    let failuresLeft = 3;
    const flaky: EventTransport = {
      ...bus,
      send: async (topic, messages, signal) => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('broker unavailable');
        }
        return bus.send(topic, messages, signal);
      },
    };
    const got = await collect(bus, 'jamey.memory.events.v1');
    const failures: EventsObservation[] = [];
    const relay = createOutboxRelay({ db, transport: flaky, logger: silentLogger, clock, pollIntervalMs: 5, maxBackoffMs: 20, onEvent: (e) => e.kind === 'publish_failed' && failures.push(e) });
    relay.start();
    for (const key of ['r-1', 'r-2', 'r-3']) await storeMemory(key);
    relay.wake();
    await waitFor(async () => (await relay.backlog()) === 0, { message: 'outbox drained' });
    await relay.stop();
    expect(failures.map((e) => (e.kind === 'publish_failed' ? e.attempt : 0))).toEqual([1, 2, 3]);
    expect(got.map((m) => m.key)).toEqual(['r-1', 'r-2', 'r-3']);
  });

  it('prunes published rows older than the retention', async () => {
    const bus = createInProcessTransport({ clock });
    const relay = createOutboxRelay({ db, transport: bus, logger: silentLogger, clock, retentionMs: 60_000 });
    await storeMemory('old');
    await relay.drain(); // publishes 'old' at t0
    clock.advance(120_000);
    await storeMemory('new');
    await relay.drain(); // publishes 'new' at t0+120s, then prunes what is older than 60 s
    const { rows } = await db.query<{ key: string }>('SELECT key FROM outbox ORDER BY seq');
    expect(rows.map((r) => r.key)).toEqual(['new']);
  });

  it('dead-letters malformed, unknown and failing events and keeps going', async () => {
    const bus = createInProcessTransport({ clock });
    const dlq = await collect(bus, deadLetterTopicFor('soul'));
    let attempts = 0;
    const consumer = createEventConsumer({
      db,
      transport: bus,
      groupId: 'soul',
      topics: ['jamey.memory.events.v1'],
      logger: silentLogger,
      clock,
      maxAttempts: 3,
      backoffMs: 1,
      handle: async (event, tx) => {
        await recordSeen(event, tx);
        if (event.type === 'memory.deleted' && event.data.memoryId === 'poison') {
          attempts += 1;
          throw new Error('cannot apply poison');
        }
      },
    });
    await consumer.start();
    const relay = createOutboxRelay({ db, transport: bus, logger: silentLogger, clock });
    const unknown = common.EventEnvelope.encode({ ...common.EventEnvelope.fromPartial({ id: ids(), type: 'memory.exploded', subject: 'x' }) }).finish();

    await bus.send('jamey.memory.events.v1', [
      { key: 'junk', value: Buffer.from('not an envelope'), headers: {} },
      { key: 'x', value: Buffer.from(unknown), headers: {} },
    ]);
    await storeMemory('poison');
    await storeMemory('fine');
    await relay.drain();

    expect(attempts).toBe(3);
    expect(await seenIds()).toEqual(['fine']); // the poison's insert rolled back with its failure
    expect(dlq.map((m) => [m.key, m.headers['x-dlq-reason']])).toEqual([
      ['junk', 'malformed_envelope'],
      ['x', 'unknown_type'],
      ['poison', 'handler_failed'],
    ]);
    expect(dlq[2]?.headers).toMatchObject({
      'x-dlq-error': 'Error: cannot apply poison',
      'x-dlq-original-topic': 'jamey.memory.events.v1',
      'x-dlq-original-partition': '0',
      'x-dlq-group-id': 'soul',
      'x-event-type': 'memory.deleted',
    });
    await consumer.stop();
  });

  it('leaves an event unpublished when the consumer stops mid-handling, and delivers it to the next one', async () => {
    const bus = createInProcessTransport({ clock });
    let entered!: () => void;
    const handlerEntered = new Promise<void>((resolve) => (entered = resolve));
    const crashing = createEventConsumer({
      db,
      transport: bus,
      groupId: 'consciousness',
      topics: ['jamey.memory.events.v1'],
      logger: silentLogger,
      clock,
      handle: async (event, tx) => {
        await recordSeen(event, tx);
        entered();
        await delay(60_000, event.signal); // "crashes" when stopped
      },
    });
    await crashing.start();
    const relay = createOutboxRelay({ db, transport: bus, logger: silentLogger, clock });
    await storeMemory('in-flight');
    const draining = relay.drain();
    await handlerEntered;
    await crashing.stop();
    await expect(draining).rejects.toThrow('consumer consciousness stopped');
    expect(await relay.backlog()).toBe(1);
    expect(await seenIds()).toEqual([]);

    const restarted = createEventConsumer({ db, transport: bus, groupId: 'consciousness', topics: ['jamey.memory.events.v1'], logger: silentLogger, clock, handle: recordSeen });
    await restarted.start();
    await relay.drain();
    expect(await seenIds()).toEqual(['in-flight']);
    await restarted.stop();
  });

  it('prunes its processed event ids past the dedup retention, and only its own', async () => {
    const day = 24 * 60 * 60 * 1000;
    const at = (ageMs: number) => new Date(clock.now() - ageMs).toISOString();
    await db.query(
      `INSERT INTO processed_events (group_id, event_id, processed_at) VALUES
         ('audit', 'old-1', $1), ('audit', 'old-2', $1), ('audit', 'recent', $2), ('telemetry', 'old-other-group', $1)`,
      [at(15 * day), at(13 * day)],
    );
    const bus = createInProcessTransport();
    const consumer = createEventConsumer({ db, transport: bus, groupId: 'audit', topics: ['jamey.memory.events.v1'], logger: silentLogger, clock, handle: recordSeen });
    // The first prune runs as the consumer starts.
    await consumer.start();
    const remaining = async () =>
      (await db.query<{ id: string }>("SELECT group_id || '/' || event_id AS id FROM processed_events ORDER BY 1")).rows.map((r) => r.id);
    await waitFor(async () => !(await remaining()).includes('audit/old-1'), { message: 'old ids of the group were never pruned' });
    expect(await remaining()).toEqual(['audit/recent', 'telemetry/old-other-group']);
    await consumer.stop();
  });

  it('refuses to replay from further back than the dedup retention', () => {
    const start = () =>
      createEventConsumer({
        db,
        transport: createInProcessTransport(),
        groupId: 'audit',
        topics: ['jamey.memory.events.v1'],
        logger: silentLogger,
        clock,
        handle: recordSeen,
        dedupRetentionMs: 60_000,
        fromTimestamp: clock.now() - 120_000,
      });
    expect(start).toThrow(/further back than the 60000 ms dedup retention/);
  });
});
