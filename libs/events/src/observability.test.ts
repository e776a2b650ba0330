import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIdGenerator, createManualClock, createSeededRandom } from '@jamey/core';
import { type Database, migrate, openDatabase, silentLogger } from '@jamey/data';
import { waitFor } from '@jamey/data/testing';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  catalog,
  type ConsumedEvent,
  createEventConsumer,
  createEventsMetrics,
  createInProcessTransport,
  createOutbox,
  createOutboxRelay,
  deadLetterTopicFor,
  type EventTransport,
  eventsMigrationsDir,
  eventsMigrationsTable,
  type ReceivedMessage,
} from './index.js';
import { parseTraceparent } from './tracing.js';

// Real spans through the OpenTelemetry SDK (in memory), real prom-client metrics, a real PGlite
// database and the in-process bus: the producer → relay → consumer path as embedded mode runs it.
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');
let db: Database;
let dir: string;
const clock = createManualClock(Date.UTC(2026, 0, 1));
const ids = createIdGenerator(clock, createSeededRandom(11));
const outbox = createOutbox({ source: 'memory', clock, ids, messagingSystem: 'jamey_in_process' });
const TOPIC = catalog['memory.deleted'].topic;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  dir = await mkdtemp(join(tmpdir(), 'jamey-events-otel-'));
  db = await openDatabase({ url: `pglite://${dir}` });
  await migrate(db, { dir: eventsMigrationsDir, table: eventsMigrationsTable });
});
afterAll(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
  trace.disable();
  context.disable();
});
beforeEach(async () => {
  await db.query('DELETE FROM outbox; DELETE FROM processed_events');
  exporter.reset();
});

/** Appends `memory.deleted` for `id` inside a `request` span, as a gRPC handler would. */
function produce(id: string): Promise<{ request: ReadableSpan; traceparent: string }> {
  return tracer.startActiveSpan('request', async (span) => {
    const envelope = await db.transaction((tx) => outbox.append(tx, { definition: catalog['memory.deleted'], subject: id, data: { memoryId: id } }));
    span.end();
    return { request: span as unknown as ReadableSpan, traceparent: envelope.traceparent };
  });
}

const spans = (kind: SpanKind, name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.kind === kind && s.name === name);
const linkTargets = (span: ReadableSpan): string[] => span.links.map((l) => `${l.context.traceId}/${l.context.spanId}`);

function consumer(bus: EventTransport, handle: (event: ConsumedEvent) => Promise<void>, onEvent?: Parameters<typeof createEventConsumer>[0]['onEvent']) {
  return createEventConsumer({
    db,
    transport: bus,
    groupId: 'audit',
    topics: [TOPIC],
    logger: silentLogger,
    clock,
    maxAttempts: 2,
    backoffMs: 1,
    handle: (event) => handle(event),
    ...(onEvent ? { onEvent } : {}),
  });
}

describe('trace context through the outbox, the relay and a consumer', () => {
  it('stores the create span with the event, links the relay send and the consumer process spans to it', async () => {
    const bus = createInProcessTransport({ durableGroups: { audit: [TOPIC] } });
    let activeInHandler: string | undefined;
    const audit = consumer(bus, async () => {
      activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
    });
    await audit.start();
    const { request, traceparent } = await produce('m-1');

    // The outbox's create span is a child of the request, and its context is what was stored.
    const [create] = spans(SpanKind.PRODUCER, `create ${TOPIC}`);
    expect(create?.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(traceparent).toBe(`00-${request.spanContext().traceId}-${create?.spanContext().spanId}-01`);
    expect(create?.attributes).toMatchObject({ 'messaging.system': 'jamey_in_process', 'messaging.destination.name': TOPIC, 'messaging.operation.type': 'create' });
    const row = await db.query<{ headers: Record<string, string> }>('SELECT headers FROM outbox');
    expect(row.rows[0]?.headers['traceparent']).toBe(traceparent);

    const relay = createOutboxRelay({ db, transport: bus, logger: silentLogger, clock });
    await relay.drain();
    await audit.stop();
    await bus.close();

    const createdAt = `${create?.spanContext().traceId}/${create?.spanContext().spanId}`;
    const [send] = spans(SpanKind.PRODUCER, `send ${TOPIC}`);
    expect(send?.parentSpanContext).toBeUndefined();
    expect(send?.spanContext().traceId).not.toBe(request.spanContext().traceId);
    expect(linkTargets(send!)).toEqual([createdAt]);
    expect(send?.attributes).toMatchObject({ 'messaging.operation.type': 'send', 'messaging.batch.message_count': 1, 'messaging.system': 'jamey_in_process' });

    // Linked, not a child: neither of the request nor of the relay's send, though the bus
    // delivered it inside that send.
    const [process] = spans(SpanKind.CONSUMER, `process ${TOPIC}`);
    expect(process?.parentSpanContext).toBeUndefined();
    expect(process?.spanContext().traceId).not.toBe(send?.spanContext().traceId);
    expect(linkTargets(process!)).toEqual([createdAt]);
    expect(process?.attributes).toMatchObject({
      'messaging.system': 'jamey_in_process',
      'messaging.destination.name': TOPIC,
      'messaging.consumer.group.name': 'audit',
      'messaging.operation.type': 'process',
      'messaging.message.id': create?.attributes['messaging.message.id'],
      'jamey.event.type': 'memory.deleted',
      'jamey.event.duplicate': false,
    });
    // The handler ran inside the process span, so its own calls are part of that trace.
    expect(activeInHandler).toBe(process?.spanContext().spanId);
  });

  it('dead-letters with the original traceparent, and marks the process span failed', async () => {
    const dlq = deadLetterTopicFor('audit');
    const bus = createInProcessTransport({ durableGroups: { audit: [TOPIC], 'dlq-reader': [dlq] } });
    const deadLetters: ReceivedMessage[] = [];
    await bus.subscribe({ groupId: 'dlq-reader', topics: [dlq], handler: async (m) => void deadLetters.push(m) });
    const audit = consumer(bus, async () => {
      throw new Error('cannot apply');
    });
    await audit.start();
    const { traceparent } = await produce('m-2');
    await createOutboxRelay({ db, transport: bus, logger: silentLogger, clock }).drain();
    await audit.stop();
    await bus.close();

    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.headers['traceparent']).toBe(traceparent);
    expect(deadLetters[0]?.headers['x-dlq-reason']).toBe('handler_failed');
    const [process] = spans(SpanKind.CONSUMER, `process ${TOPIC}`);
    expect(process?.status.code).toBe(SpanStatusCode.ERROR);
    expect(process?.attributes['jamey.dead_letter.reason']).toBe('handler_failed');
    expect(process?.events.filter((e) => e.name === 'handler failed')).toHaveLength(2);
    const [, traceId, spanId] = traceparent.split('-');
    expect(linkTargets(process!)).toEqual([`${traceId}/${spanId}`]);
  });

  it('handles a message whose traceparent is malformed, without a link', async () => {
    const bus = createInProcessTransport({ durableGroups: { audit: [TOPIC] } });
    const handled: string[] = [];
    const audit = consumer(bus, async (event) => void handled.push(event.envelope.id));
    await audit.start();
    await produce('m-3');
    await db.query(`UPDATE outbox SET headers = headers || '{"traceparent":"00-not-a-trace-01"}'::jsonb`);
    await createOutboxRelay({ db, transport: bus, logger: silentLogger, clock }).drain();
    await audit.stop();
    await bus.close();
    expect(handled).toHaveLength(1);
    expect(spans(SpanKind.CONSUMER, `process ${TOPIC}`)[0]?.links).toEqual([]);
  });
});

describe('parseTraceparent', () => {
  it('accepts W3C traceparents and rejects what the spec rejects', () => {
    expect(parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'k=v')).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
    // A future version may append fields; version 00 may not.
    expect(parseTraceparent('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-extra')?.traceFlags).toBe(0);
    for (const bad of [
      undefined,
      '',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra',
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    }
  });
});

describe('createEventsMetrics', () => {
  const value = async (registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
    const metric = registry.getSingleMetric(name);
    const { values } = await metric!.get();
    return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };

  it('counts production, each delivery outcome, dead letters, lag and the outbox backlog', async () => {
    const registry = new Registry();
    const metrics = createEventsMetrics(registry);
    const bus = createInProcessTransport({ durableGroups: { audit: [TOPIC] } });
    let fail = false;
    const audit = consumer(
      bus,
      async () => {
        if (fail) throw new Error('cannot apply');
      },
      metrics.observe,
    );
    await audit.start();
    const relay = createOutboxRelay({ db, transport: bus, logger: silentLogger, clock, onEvent: metrics.observe });
    metrics.trackOutboxBacklog((signal) => relay.backlog(signal));

    await produce('a');
    await produce('b');
    expect(await value(registry, 'jamey_outbox_backlog_events')).toBe(2);
    await relay.drain();
    expect(await value(registry, 'jamey_outbox_backlog_events')).toBe(0);
    expect(await value(registry, 'jamey_kafka_messages_produced_total', { topic: TOPIC })).toBe(2);
    expect(await value(registry, 'jamey_kafka_messages_consumed_total', { group: 'audit', topic: TOPIC, outcome: 'processed' })).toBe(2);
    expect(await value(registry, 'jamey_kafka_consumer_lag_messages', { group: 'audit', topic: TOPIC })).toBe(0);

    // The same message again (at-least-once delivery) is a duplicate.
    const [row] = (await db.query<{ key: string; envelope: Buffer; headers: Record<string, string> }>('SELECT key, envelope, headers FROM outbox LIMIT 1')).rows;
    await bus.send(TOPIC, [{ key: row!.key, value: row!.envelope, headers: row!.headers }]);
    expect(await value(registry, 'jamey_kafka_messages_consumed_total', { outcome: 'duplicate' })).toBe(1);

    fail = true;
    await produce('c');
    await relay.drain();
    expect(await value(registry, 'jamey_kafka_messages_consumed_total', { outcome: 'dead_lettered' })).toBe(1);
    expect(await value(registry, 'jamey_kafka_dead_letters_total', { group: 'audit', topic: TOPIC, reason: 'handler_failed' })).toBe(1);
    expect(await value(registry, 'jamey_kafka_messages_produced_total', { topic: deadLetterTopicFor('audit') })).toBe(1);
    const histogram = await registry.getSingleMetric('jamey_kafka_message_processing_duration_seconds')!.get();
    const count = histogram.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count') && v.labels['group'] === 'audit');
    expect(count?.value).toBe(4);

    // A failing send is a publish failure, and the backlog shows the row left behind.
    const broken: EventTransport = { ...bus, send: () => Promise.reject(new Error('broker down')) };
    const stuck = createOutboxRelay({ db, transport: broken, logger: silentLogger, clock, pollIntervalMs: 1, onEvent: metrics.observe });
    await produce('d');
    stuck.start();
    await waitFor(async () => ((await value(registry, 'jamey_outbox_publish_failures_total')) ?? 0) > 0, { message: 'a failed publish' });
    await stuck.stop();
    expect(await value(registry, 'jamey_outbox_publish_failures_total')).toBeGreaterThan(0);
    expect(await value(registry, 'jamey_outbox_backlog_events')).toBe(1);
    await audit.stop();
    await bus.close();
    const text = await registry.metrics();
    expect(text).not.toMatch(/event_?id|subject|m-\d/);
  });
});
