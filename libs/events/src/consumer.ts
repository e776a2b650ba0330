import { type Clock, createPeriodicTask, cryptoRandom, isJameyError, type PeriodicTask, type RandomSource } from '@jamey/core';
import { createRetry, exponentialBackoff } from '@jamey/resilience';
import type { Database, Logger, Queryable } from '@jamey/data';
import type { common } from '@jamey/proto';
import type { Span } from '@opentelemetry/api';
import {
  type Catalog,
  decodeEnvelope,
  decodeEventData,
  deadLetterTopicFor,
  EventDecodeError,
  type EventData,
  type EventType,
} from './catalog.js';
import type { DeadLetterReason, EventsObserver } from './observe.js';
import { EVENT_ID_HEADER } from './outbox.js';
import { DEFAULT_MESSAGING_SYSTEM, inSpan, markFailed, MESSAGING_ATTRIBUTES as M, producerLink, SpanKind } from './tracing.js';
import type { EventTransport, ReceivedMessage, Subscription } from './transport.js';

/** A decoded catalog event as a handler receives it; narrow it with `event.type`. */
export type ConsumedEvent = {
  [K in EventType]: {
    type: K;
    definition: Catalog[K];
    data: EventData<K>;
    envelope: common.EventEnvelope;
    /** The envelope's bytes exactly as they arrived (fields unknown to this build included). */
    value: Buffer;
    topic: string;
    partition: number;
    offset: string;
    headers: Record<string, string>;
    /** Aborted when the consumer stops; pass it to the handler's I/O. */
    signal: AbortSignal;
  };
}[EventType];

/** Options for {@link createEventConsumer}. */
export interface EventConsumerOptions {
  /** The consumer's own database, holding `processed_events` (see `eventsMigrationsDir`). */
  db: Database;
  transport: EventTransport;
  /** Consumer group; also names the dead-letter topic `jamey.<groupId>.dlq.v1`. */
  groupId: string;
  topics: string[];
  /** Applies one event, writing through `tx` (the transaction that records the event id). */
  handle: (event: ConsumedEvent, tx: Queryable) => Promise<void>;
  logger: Logger;
  clock: Clock;
  /** Handler attempts before dead-lettering (default 5). */
  maxAttempts?: number;
  /** First retry pause in milliseconds, doubled each attempt (default 100). */
  backoffMs?: number;
  /** Longest retry pause in milliseconds (default 5000). */
  maxBackoffMs?: number;
  /** Draws the retry pauses' jitter (default crypto randomness). */
  random?: RandomSource;
  /** Where a group with no committed position starts (default true: the oldest message). */
  fromBeginning?: boolean;
  /**
   * Replays from this time (ms since epoch) when starting; see {@link EventTransport.subscribe}.
   * It may not reach further back than {@link dedupRetentionMs}: older events would no longer
   * be recognised as processed.
   */
  fromTimestamp?: number;
  /**
   * How long an event id stays in `processed_events`, in ms (default 14 days, twice Kafka's
   * default topic retention). A redelivery within this time is recognised as a duplicate.
   * Older ids are pruned every {@link pruneIntervalMs}.
   */
  dedupRetentionMs?: number;
  /** How often old ids are pruned, in ms (default 1 hour). */
  pruneIntervalMs?: number;
  onEvent?: EventsObserver;
}

/** Default {@link EventConsumerOptions.dedupRetentionMs}: 14 days. */
export const DEFAULT_DEDUP_RETENTION_MS = 14 * 24 * 60 * 60 * 1000;

/** Rows one prune statement deletes at most, so a backlog never holds a long lock. */
const PRUNE_BATCH = 10_000;

/** A running consumer. */
export interface EventConsumer {
  /** Ensures the topics and the dead-letter topic exist, then subscribes. `signal` stops it. */
  start(signal?: AbortSignal): Promise<void>;
  /** Aborts retries in progress, then stops the subscription; unfinished messages stay uncommitted. */
  stop(): Promise<void>;
}

/** Dead-letter header names. */
export const DLQ_HEADERS = {
  reason: 'x-dlq-reason',
  error: 'x-dlq-error',
  topic: 'x-dlq-original-topic',
  partition: 'x-dlq-original-partition',
  offset: 'x-dlq-original-offset',
  groupId: 'x-dlq-group-id',
  time: 'x-dlq-time',
} as const;

const MAX_ERROR_HEADER = 2_000;

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_HEADER ? `${text.slice(0, MAX_ERROR_HEADER)}…` : text;
}

/**
 * Creates an idempotent consumer. For each message:
 *
 * 1. Decode the `EventEnvelope` and its payload. A message that is not an envelope (or lacks
 *    id/type), has a type the catalog does not know, or a payload that does not decode goes to
 *    the dead-letter topic with `x-dlq-reason`, `x-dlq-error` and the original
 *    topic/partition/offset headers, and is committed; the next message proceeds.
 * 2. In one transaction: insert `(groupId, event id)` into `processed_events`; if it was already
 *    there the event is a duplicate and is skipped, otherwise `handle(event, tx)` runs. The
 *    effect and the id commit together, so a redelivered event is applied exactly once.
 * 3. If that throws, retry with exponential backoff up to `maxAttempts`, then dead-letter it
 *    with reason `handler_failed`. A `DEPENDENCY_UNAVAILABLE` error is not the message's fault:
 *    after the attempts it is rethrown instead, leaving the message uncommitted for redelivery.
 *
 * Stopping aborts retries and the handler's `event.signal`; a message not finished by then is
 * not committed and is delivered again later.
 */
export function createEventConsumer(options: EventConsumerOptions): EventConsumer {
  const { db, transport, groupId, topics, handle, logger, clock, onEvent } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const backoffMs = options.backoffMs ?? 100;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  // The handler's retries are @jamey/resilience's retry policy. Any handler error is retried: a
  // message is dead-lettered only after every attempt failed, with the last error.
  const retry = createRetry({
    name: `consumer:${groupId}`,
    maxRetries: maxAttempts - 1,
    backoff: exponentialBackoff({ initialDelayMs: backoffMs, maxDelayMs: maxBackoffMs, jitter: 'full' }),
    shouldRetry: () => true,
    clock,
    random: options.random ?? cryptoRandom,
  });
  const deadLetterTopic = deadLetterTopicFor(groupId);
  let controller = new AbortController();
  let subscription: Subscription | undefined;

  const observe: EventsObserver = (observation) => {
    try {
      onEvent?.(observation);
    } catch (error) {
      logger.warn({ err: error }, 'events observer threw');
    }
  };

  // The dead-letter copy keeps every original header, traceparent included: whoever
  // reprocesses it later links to the original producer, not to this consumer.
  const deadLetter = async (message: ReceivedMessage, reason: DeadLetterReason, error: unknown, started: number, eventId?: string) => {
    const headers: Record<string, string> = {
      ...message.headers,
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.error]: describeError(error),
      [DLQ_HEADERS.topic]: message.topic,
      [DLQ_HEADERS.partition]: String(message.partition),
      [DLQ_HEADERS.offset]: message.offset,
      [DLQ_HEADERS.groupId]: groupId,
      [DLQ_HEADERS.time]: new Date(clock.now()).toISOString(),
    };
    await transport.send(deadLetterTopic, [{ key: message.key, value: message.value, headers }], controller.signal);
    logger.error(
      { groupId, topic: message.topic, partition: message.partition, offset: message.offset, reason, eventId, err: error },
      'event dead-lettered',
    );
    observe({ kind: 'dead_lettered', groupId, topic: message.topic, reason, eventId, durationMs: clock.now() - started });
  };

  const apply = async (event: ConsumedEvent, signal: AbortSignal): Promise<boolean> =>
    db.transaction(async (tx) => {
      const recorded = await tx.query(
        `INSERT INTO processed_events (group_id, event_id, processed_at) VALUES ($1, $2, $3::timestamptz)
         ON CONFLICT DO NOTHING`,
        [groupId, event.envelope.id, new Date(clock.now()).toISOString()],
        signal,
      );
      if (recorded.rowCount === 0) return false;
      await handle(event, tx);
      return true;
    }, signal);

  /**
   * One delivery, in its own `process <topic>` span: a new trace linked to the producer's
   * `create` span (the message's `traceparent`), never a child of it (see tracing.ts).
   */
  const onMessage = (message: ReceivedMessage): Promise<void> =>
    inSpan(
      `process ${message.topic}`,
      {
        kind: SpanKind.CONSUMER,
        root: true,
        links: producerLink(message.headers),
        attributes: {
          [M.system]: transport.system ?? DEFAULT_MESSAGING_SYSTEM,
          [M.destination]: message.topic,
          [M.operationType]: 'process',
          [M.operationName]: 'process',
          [M.consumerGroup]: groupId,
          [M.partition]: String(message.partition),
          [M.offset]: Number(message.offset),
          [M.key]: message.key,
        },
      },
      (span) => handleMessage(message, span),
    );

  const handleMessage = async (message: ReceivedMessage, span: Span): Promise<void> => {
    const { signal } = controller;
    signal.throwIfAborted(); // stopping: leave it uncommitted
    const started = clock.now();
    let event: ConsumedEvent;
    let envelope: common.EventEnvelope | undefined;
    try {
      envelope = decodeEnvelope(message.value);
      const decoded = decodeEventData(envelope);
      event = { ...decoded, envelope, ...pick(message), signal } as ConsumedEvent;
    } catch (error) {
      if (!(error instanceof EventDecodeError)) throw error;
      markFailed(span, error);
      span.setAttribute('jamey.dead_letter.reason', error.reason);
      await deadLetter(message, error.reason, error, started, envelope?.id ?? message.headers[EVENT_ID_HEADER]);
      return;
    }
    span.setAttributes({ [M.messageId]: event.envelope.id, [M.eventType]: event.type });

    const base = { groupId, topic: message.topic, type: event.type, eventId: event.envelope.id };
    let lastError: unknown;
    try {
      await retry.execute(
        async ({ attempt }) => {
          const attemptStarted = clock.now();
          try {
            const applied = await apply(event, signal);
            span.setAttribute('jamey.event.duplicate', !applied);
            observe(
              applied
                ? { kind: 'consumed', ...base, durationMs: clock.now() - attemptStarted }
                : { kind: 'duplicate', ...base, durationMs: clock.now() - attemptStarted },
            );
          } catch (error) {
            if (!signal.aborted) {
              span.addEvent('handler failed', { attempt: attempt + 1, 'exception.message': error instanceof Error ? error.message : String(error) });
              observe({ kind: 'handler_failed', ...base, attempt: attempt + 1, error });
              logger.warn({ ...base, attempt: attempt + 1, maxAttempts, err: error }, 'event handler failed');
            }
            throw error;
          }
        },
        { signal },
      );
      return;
    } catch (error) {
      if (signal.aborted) throw error; // stopping: leave it uncommitted
      lastError = error;
    }
    if (isJameyError(lastError) && lastError.code === 'DEPENDENCY_UNAVAILABLE') {
      observe({ kind: 'failed', ...base, error: lastError, durationMs: clock.now() - started });
      throw lastError;
    }
    markFailed(span, lastError);
    span.setAttribute('jamey.dead_letter.reason', 'handler_failed');
    await deadLetter(message, 'handler_failed', lastError, started, event.envelope.id);
  };

  const dedupRetentionMs = options.dedupRetentionMs ?? DEFAULT_DEDUP_RETENTION_MS;
  if (options.fromTimestamp !== undefined && options.fromTimestamp < clock.now() - dedupRetentionMs) {
    throw new RangeError(
      `consumer ${groupId}: cannot replay from ${new Date(options.fromTimestamp).toISOString()}, further back than the ${dedupRetentionMs} ms dedup retention; events that old would be applied twice`,
    );
  }
  /** Deletes this group's ids older than the retention, in batches, until none is left. */
  const prune = async (signal: AbortSignal): Promise<void> => {
    const before = new Date(clock.now() - dedupRetentionMs).toISOString();
    let total = 0;
    for (;;) {
      const { rowCount } = await db.query(
        `DELETE FROM processed_events WHERE group_id = $1 AND event_id IN (
           SELECT event_id FROM processed_events WHERE group_id = $1 AND processed_at < $2::timestamptz LIMIT ${PRUNE_BATCH})`,
        [groupId, before],
        signal,
      );
      total += rowCount;
      if (rowCount < PRUNE_BATCH) break;
    }
    if (total > 0) logger.info({ groupId, rows: total }, 'pruned processed event ids past the dedup retention');
  };
  let pruner: PeriodicTask | undefined;

  const consumer: EventConsumer = {
    async start(signal) {
      if (subscription !== undefined) return;
      controller = new AbortController();
      pruner = createPeriodicTask({
        intervalMs: options.pruneIntervalMs ?? 3_600_000,
        run: prune,
        onError: (err) => logger.warn({ err, groupId }, 'could not prune processed event ids; trying again later'),
      });
      pruner.start();
      await transport.ensureTopics([...topics, deadLetterTopic], signal);
      subscription = await transport.subscribe({
        groupId,
        topics,
        fromBeginning: options.fromBeginning ?? true,
        fromTimestamp: options.fromTimestamp,
        handler: onMessage,
        onLag: ({ topic, messages }) => observe({ kind: 'lag', groupId, topic, messages }),
      });
      signal?.addEventListener('abort', () => void consumer.stop(), { once: true });
    },
    async stop() {
      controller.abort(new Error(`consumer ${groupId} stopped`));
      const current = subscription;
      subscription = undefined;
      await Promise.all([current?.stop(), pruner?.stop()]);
      pruner = undefined;
    },
  };
  return consumer;
}

function pick(message: ReceivedMessage) {
  const { topic, partition, offset, headers, value } = message;
  return { topic, partition, offset, headers, value };
}
