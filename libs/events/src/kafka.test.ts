import { createIdGenerator, cryptoRandom, delay, systemClock } from '@jamey/core';
import { type Database, migrate, openDatabase, type Queryable, silentLogger } from '@jamey/data';
import {
  createTestSchema,
  describeWithInfra,
  KAFKA_BROKERS,
  TEST_DATABASE_URL,
  type TestSchema,
  uniqueName,
  waitFor,
} from '@jamey/data/testing';
import { common } from '@jamey/proto';
import { type Admin, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  catalog,
  type ConsumedEvent,
  createEventConsumer,
  createKafkaTransport,
  createOutbox,
  createOutboxRelay,
  deadLetterTopicFor,
  type EventsObservation,
  type EventTransport,
  eventsMigrationsDir,
  eventsMigrationsTable,
  type ReceivedMessage,
} from './index.js';
import { withTopicSuffix } from './testing.js';

const TOPIC = catalog['memory.deleted'].topic;

describeWithInfra([TEST_DATABASE_URL, KAFKA_BROKERS], 'events over real Kafka and Postgres', (env) => {
  const run = uniqueName('t');
  const brokers = env.KAFKA_BROKERS!.split(',');
  const clock = systemClock;
  const ids = createIdGenerator(clock, cryptoRandom);
  const outbox = createOutbox({ source: 'memory', clock, ids });
  const raw = new Kafka({ brokers, clientId: `raw-${run}`, logLevel: logLevel.NOTHING });
  let schema: TestSchema;
  let db: Database;
  let kafka: EventTransport;
  let transport: EventTransport;
  let suffix: string;
  let admin: Admin;

  beforeAll(async () => {
    schema = await createTestSchema(env.JAMEY_TEST_DATABASE_URL!, 'events_kafka');
    db = await openDatabase({ url: schema.url, poolSize: 5 });
    await migrate(db, { dir: eventsMigrationsDir, table: eventsMigrationsTable });
    await db.query('CREATE TABLE seen (group_id text NOT NULL, event_id text NOT NULL, memory_id text NOT NULL, PRIMARY KEY (group_id, event_id))');
    kafka = createKafkaTransport({ brokers, clientId: `events-test-${run}`, logger: silentLogger });
    admin = raw.admin();
    await admin.connect();
  });
  // Every test gets its own copy of the catalog's topics, so no test sees another's messages.
  beforeEach(async () => {
    suffix = uniqueName(run);
    transport = withTopicSuffix(kafka, suffix);
    await transport.ensureTopics([TOPIC]);
  });
  afterAll(async () => {
    await admin?.disconnect();
    await kafka?.close();
    await db?.close();
    await schema?.drop();
  });

  /**
   * Commits one outbox row per memory id (one transaction each) and publishes them. The
   * subject (Kafka key) is the memory id unless `subject` puts them all on one key.
   */
  async function publish(memories: string[], subject?: string): Promise<common.EventEnvelope[]> {
    const envelopes: common.EventEnvelope[] = [];
    for (const id of memories) {
      envelopes.push(
        await db.transaction((tx) =>
          outbox.append(tx, { definition: catalog['memory.deleted'], subject: subject ?? id, data: { memoryId: id } }),
        ),
      );
    }
    await createOutboxRelay({ db, transport, logger: silentLogger, clock }).drain();
    return envelopes;
  }

  const recordSeen = (groupId: string) => async (event: ConsumedEvent, tx: Queryable) => {
    if (event.type !== 'memory.deleted') throw new Error(`unexpected ${event.type}`);
    await tx.query('INSERT INTO seen (event_id, memory_id, group_id) VALUES ($1, $2, $3)', [event.envelope.id, event.data.memoryId, groupId]);
  };

  const seen = async (groupId: string) =>
    (await db.query<{ memory_id: string }>('SELECT memory_id FROM seen WHERE group_id = $1 ORDER BY memory_id', [groupId])).rows.map(
      (r) => r.memory_id,
    );

  async function committedOffset(groupId: string, partition: number): Promise<string> {
    const [topic] = await admin.fetchOffsets({ groupId, topics: [`${TOPIC}.${suffix}`] });
    return topic?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
  }

  it('relays the outbox to Kafka in order per key', async () => {
    const groupId = uniqueName('order');
    const got: ReceivedMessage[] = [];
    const subscription = await transport.subscribe({ groupId, topics: [TOPIC], fromBeginning: true, handler: async (m) => void got.push(m) });
    const keys = ['k1', 'k2', 'k1', 'k3', 'k1', 'k2', 'k3', 'k3'];
    const envelopes = [];
    for (const key of keys) {
      envelopes.push(
        await db.transaction((tx) => outbox.append(tx, { definition: catalog['memory.deleted'], subject: key, data: { memoryId: key } })),
      );
    }
    await createOutboxRelay({ db, transport, logger: silentLogger, clock, batchSize: 3 }).drain();
    await waitFor(() => got.length >= keys.length, { message: 'all messages consumed' });
    await subscription.stop();

    for (const key of ['k1', 'k2', 'k3']) {
      const sentIds = envelopes.filter((e) => e.subject === key).map((e) => e.id);
      const receivedIds = got.filter((m) => m.key === key).map((m) => common.EventEnvelope.decode(m.value).id);
      expect(receivedIds).toEqual(sentIds);
    }
    expect(got[0]?.topic).toBe(TOPIC);
    expect(got[0]?.headers['x-event-type']).toBe('memory.deleted');
  });

  it('commits only after handling: a consumer stopped mid-event leaves it for the next one', async () => {
    const groupId = uniqueName('crash');
    // One key: one partition, consumed in this order.
    await publish(['c-1', 'c-2', 'c-3'], 'same-aggregate');
    let entered!: (at: { partition: number; offset: string }) => void;
    const handlerEntered = new Promise<{ partition: number; offset: string }>((resolve) => (entered = resolve));
    const crashing = createEventConsumer({
      db, transport, groupId, topics: [TOPIC], logger: silentLogger, clock,
      handle: async (event, tx) => {
        await recordSeen(groupId)(event, tx);
        if (event.type === 'memory.deleted' && event.data.memoryId === 'c-2') {
          entered({ partition: event.partition, offset: event.offset });
          await delay(60_000, event.signal); // stuck until the consumer is stopped
        }
      },
    });
    await crashing.start();
    const { partition, offset: stuckAt } = await handlerEntered;
    // The first event is committed, the one in the handler is not.
    await waitFor(async () => (await committedOffset(groupId, partition)) === stuckAt, { message: 'first offset committed' });
    await crashing.stop();
    expect(await committedOffset(groupId, partition)).toBe(stuckAt);
    expect(await seen(groupId)).toEqual(['c-1']);

    const next = createEventConsumer({ db, transport, groupId, topics: [TOPIC], logger: silentLogger, clock, handle: recordSeen(groupId) });
    await next.start();
    await waitFor(async () => (await seen(groupId)).length === 3, { timeoutMs: 20_000, message: 'redelivery' });
    await next.stop();
    expect(await seen(groupId)).toEqual(['c-1', 'c-2', 'c-3']);
  });

  it('applies an event once when the offset commit is lost after the database commit', async () => {
    const groupId = uniqueName('lost-commit');
    await publish(['l-1', 'l-2']);
    let crashed = false;
    // Fails the delivery after the consumer has committed its transaction: like a crash
    // between the database commit and the Kafka offset commit.
    const crashingAfterHandler: EventTransport = {
      ...transport,
      subscribe: (options) =>
        transport.subscribe({
          ...options,
          handler: async (message) => {
            await options.handler(message);
            if (!crashed && message.key === 'l-1') {
              crashed = true;
              throw new Error('simulated crash before the offset commit');
            }
          },
        }),
    };
    const observed: EventsObservation[] = [];
    const consumer = createEventConsumer({
      db, transport: crashingAfterHandler, groupId, topics: [TOPIC], logger: silentLogger, clock,
      handle: recordSeen(groupId), onEvent: (e) => observed.push(e),
    });
    await consumer.start();
    await waitFor(() => observed.some((e) => e.kind === 'duplicate'), { timeoutMs: 20_000, message: 'redelivered duplicate' });
    await waitFor(async () => (await seen(groupId)).length === 2, { message: 'both events applied' });
    await consumer.stop();
    expect(await seen(groupId)).toEqual(['l-1', 'l-2']);
    expect(observed.filter((e) => e.kind === 'consumed').length).toBe(2);
  });

  it('dead-letters malformed, unknown, undecodable and failing events and keeps consuming', async () => {
    const groupId = uniqueName('dlq');
    const envelope = (type: string, data: Uint8Array) =>
      Buffer.from(common.EventEnvelope.encode(common.EventEnvelope.fromPartial({ id: ids(), type, subject: 'same', data: Buffer.from(data) })).finish());
    // One key, so one partition and a fixed order.
    await transport.send(TOPIC, [
      { key: 'same', value: Buffer.from('\u00ff not protobuf'), headers: {} },
      { key: 'same', value: envelope('memory.exploded', new Uint8Array()), headers: {} },
      { key: 'same', value: envelope('memory.deleted', Uint8Array.from([0x0a, 100, 0x41])), headers: {} },
      { key: 'same', value: envelope('memory.deleted', catalog['memory.deleted'].schema.encode({ memoryId: 'poison' }).finish()), headers: {} },
      { key: 'same', value: envelope('memory.deleted', catalog['memory.deleted'].schema.encode({ memoryId: 'after' }).finish()), headers: {} },
    ]);
    let poisonAttempts = 0;
    const consumer = createEventConsumer({
      db, transport, groupId, topics: [TOPIC], logger: silentLogger, clock, maxAttempts: 3, backoffMs: 5,
      handle: async (event, tx) => {
        if (event.type === 'memory.deleted' && event.data.memoryId === 'poison') {
          poisonAttempts += 1;
          throw new Error('poison pill');
        }
        await recordSeen(groupId)(event, tx);
      },
    });
    await consumer.start();
    await waitFor(async () => (await seen(groupId)).includes('after'), { timeoutMs: 20_000, message: 'the good event after the bad ones' });
    await consumer.stop();
    expect(poisonAttempts).toBe(3);

    // Read the dead-letter topic back with a plain kafkajs consumer.
    const letters: KafkaMessage[] = [];
    const reader = raw.consumer({ groupId: uniqueName('dlq-reader'), maxWaitTimeInMs: 200 });
    await reader.connect();
    await reader.subscribe({ topics: [`${deadLetterTopicFor(groupId)}.${suffix}`], fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void letters.push(message) });
    await waitFor(() => letters.length >= 4, { timeoutMs: 20_000, message: 'four dead letters' });
    await reader.disconnect();
    const header = (m: KafkaMessage | undefined, name: string) => m?.headers?.[name]?.toString();
    expect(letters.map((m) => header(m, 'x-dlq-reason'))).toEqual(['malformed_envelope', 'unknown_type', 'undecodable_data', 'handler_failed']);
    expect(header(letters[3], 'x-dlq-error')).toBe('Error: poison pill');
    expect(header(letters[3], 'x-dlq-original-topic')).toBe(TOPIC);
    expect(header(letters[0], 'x-dlq-original-offset')).toMatch(/^\d+$/);
    expect(letters[0]?.value?.toString()).toBe('\u00ff not protobuf'); // the original bytes, untouched
  });

  it('replays a consumer group from a timestamp', async () => {
    const groupId = uniqueName('replay');
    const before = await publish(['p-1', 'p-2']);
    const got: ReceivedMessage[] = [];
    const collect = async (m: ReceivedMessage) => void got.push(m);
    let subscription = await transport.subscribe({ groupId, topics: [TOPIC], fromBeginning: true, handler: collect });
    await waitFor(() => got.some((m) => m.key === 'p-2'), { message: 'first batch' });
    const cut = Math.max(...got.filter((m) => m.key.startsWith('p-')).map((m) => m.timestamp)) + 1;
    await waitFor(() => Date.now() > cut, { message: 'the clock to pass the cut' });
    const after = await publish(['p-3', 'p-4']);
    await waitFor(() => got.some((m) => m.key === 'p-4'), { message: 'second batch' });
    await subscription.stop();

    got.length = 0;
    subscription = await transport.subscribe({ groupId, topics: [TOPIC], fromTimestamp: cut, handler: collect });
    await waitFor(() => got.filter((m) => m.key.startsWith('p-')).length >= 2, { message: 'replayed events' });
    await subscription.stop();
    const replayed = got.filter((m) => m.key.startsWith('p-')).map((m) => common.EventEnvelope.decode(m.value).id).sort();
    expect(replayed).toEqual(after.map((e) => e.id).sort());
    expect(replayed).not.toContain(before[0]!.id);
  });


  it('carries the stored traceparent through Kafka headers (Buffers on the wire) and reports consumer lag', async () => {
    const groupId = uniqueName('trace');
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = createOutbox({ source: 'memory', clock, ids, getTraceContext: () => ({ traceparent, tracestate: 'jamey=1' }) });
    for (const id of ['t-1', 't-2', 't-3']) {
      await db.transaction((tx) => traced.append(tx, { definition: catalog['memory.deleted'], subject: 'one-key', data: { memoryId: id } }));
    }
    await createOutboxRelay({ db, transport, logger: silentLogger, clock }).drain();
    const headers: Record<string, string>[] = [];
    const observed: EventsObservation[] = [];
    const consumer = createEventConsumer({
      db, transport, groupId, topics: [TOPIC], logger: silentLogger, clock,
      handle: async (event, tx) => {
        headers.push(event.headers);
        await recordSeen(groupId)(event, tx);
      },
      onEvent: (e) => observed.push(e),
    });
    await consumer.start();
    await waitFor(() => headers.length === 3, { message: 'three events consumed' });
    // The lag is reported after each handled message: it ends at zero.
    const lastLag = (): number | undefined => observed.flatMap((e) => (e.kind === 'lag' ? [e.messages] : [])).at(-1);
    await waitFor(() => lastLag() === 0, { message: 'lag back to zero' });
    await consumer.stop();
    expect(headers.every((h) => h['traceparent'] === traceparent && h['tracestate'] === 'jamey=1')).toBe(true);
    const lags = observed.flatMap((e) => (e.kind === 'lag' ? [e] : []));
    expect(lags[0]).toMatchObject({ groupId, topic: TOPIC });
    expect(Math.max(...lags.map((l) => l.messages))).toBeGreaterThan(0);

    // On the wire, kafkajs hands the header over as a Buffer.
    const raw = new Kafka({ brokers, clientId: `raw-${groupId}`, logLevel: logLevel.NOTHING }).consumer({ groupId: `${groupId}-raw` });
    const wire: KafkaMessage[] = [];
    await raw.connect();
    await raw.subscribe({ topics: [`${TOPIC}.${suffix}`], fromBeginning: true });
    await raw.run({ eachMessage: async ({ message }) => void wire.push(message) });
    await waitFor(() => wire.length === 3, { message: 'raw consumer read the three messages' });
    await raw.disconnect();
    expect(Buffer.isBuffer(wire[0]?.headers?.['traceparent'])).toBe(true);
    expect(String(wire[0]?.headers?.['traceparent'])).toBe(traceparent);
  });
});

describe('kafka header normalization', () => {
  it('turns Buffers, strings and repeated headers into strings', async () => {
    const { normalizeHeaders } = await import('./index.js');
    expect(normalizeHeaders({ a: Buffer.from('x'), b: 'y', c: [Buffer.from('1'), '2'], d: undefined })).toEqual({ a: 'x', b: 'y', c: '1,2' });
  });
});

describe('kafka transport without a broker', () => {
  it('reports an unreachable broker as DEPENDENCY_UNAVAILABLE', async () => {
    const { createKafkaTransport: create } = await import('./index.js');
    // Port 1 on loopback refuses connections.
    const transport = create({ brokers: ['127.0.0.1:1'], clientId: 'unreachable', logger: silentLogger, retries: 0 });
    const error = await transport.ensureTopics(['x']).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', details: { dependency: 'kafka' } });
    await transport.close();
  });
});
