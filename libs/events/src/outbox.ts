import { type Clock, type IdGenerator, invalidArgument } from '@jamey/core';
import type { Queryable } from '@jamey/data';
import { common } from '@jamey/proto';
import type { EventDefinition } from './catalog.js';
import { DEFAULT_MESSAGING_SYSTEM, inSpan, MESSAGING_ATTRIBUTES as M, SpanKind, traceContextOf } from './tracing.js';

/** W3C trace context of the span producing an event. */
export interface TraceContext {
  traceparent?: string;
  tracestate?: string;
}

/** Options for {@link createOutbox}. */
export interface OutboxOptions {
  /** The producing service; it may only append events whose definition has this source. */
  source: string;
  clock: Clock;
  /** Event ids; Jamey's are UUIDv7. */
  ids: IdGenerator;
  /**
   * The trace context stored with each event (envelope and `traceparent`/`tracestate`
   * headers). Default: that of the `create <topic>` span `append` makes, a child of the
   * active span; nothing when no OpenTelemetry SDK is running.
   */
  getTraceContext?: () => TraceContext;
  /** `messaging.system` on the `create` spans (default `kafka`). */
  messagingSystem?: string;
}

/** An event to append: its definition, the aggregate it is about, and its payload. */
export interface OutboxEvent<TData> {
  definition: EventDefinition<string, TData>;
  /** The aggregate id: the envelope subject and the Kafka key. */
  subject: string;
  data: TData;
}

/** Writes events into the `outbox` table inside the caller's transaction. */
export interface Outbox {
  /**
   * Inserts the event into `outbox` through `tx`, so it commits or rolls back together with the
   * caller's state change, and returns the envelope it will be published with. Pass the `tx`
   * of `db.transaction(...)`; the relay publishes the row after the commit.
   */
  append<TData>(tx: Queryable, event: OutboxEvent<TData>, signal?: AbortSignal): Promise<common.EventEnvelope>;
}

/** Header carrying the event id on every published event. */
export const EVENT_ID_HEADER = 'x-event-id';
/** Header carrying the event type on every published event. */
export const EVENT_TYPE_HEADER = 'x-event-type';

/** The Kafka headers for an envelope: its id and type, and its trace context when present. */
export function headersFor(envelope: common.EventEnvelope): Record<string, string> {
  const headers: Record<string, string> = { [EVENT_ID_HEADER]: envelope.id, [EVENT_TYPE_HEADER]: envelope.type };
  if (envelope.traceparent !== '') headers.traceparent = envelope.traceparent;
  if (envelope.tracestate !== '') headers.tracestate = envelope.tracestate;
  return headers;
}

/** Creates the {@link Outbox} of one producing service. */
export function createOutbox(options: OutboxOptions): Outbox {
  const { source, clock, ids, getTraceContext } = options;
  return {
    async append(tx, event, signal) {
      const { definition, subject, data } = event;
      if (definition.source !== source) {
        throw new TypeError(`the ${source} outbox cannot publish ${definition.type}, which belongs to ${definition.source}`);
      }
      if (subject === '') throw invalidArgument('subject', 'an event needs a subject (its aggregate id)');
      const id = ids();
      const attributes = {
        [M.system]: options.messagingSystem ?? DEFAULT_MESSAGING_SYSTEM,
        [M.destination]: definition.topic,
        [M.operationType]: 'create',
        [M.operationName]: 'create',
        [M.messageId]: id,
        [M.key]: subject,
        [M.eventType]: definition.type,
      };
      return inSpan(`create ${definition.topic}`, { kind: SpanKind.PRODUCER, attributes }, async (span) => {
        const trace = getTraceContext?.() ?? traceContextOf(span);
        const time = new Date(clock.now());
        const envelope: common.EventEnvelope = {
          id,
          type: definition.type,
          source,
          time,
          subject,
          traceparent: trace.traceparent ?? '',
          tracestate: trace.tracestate ?? '',
          dataSchema: definition.dataSchema,
          data: Buffer.from(definition.schema.encode(data).finish()),
        };
        await tx.query(
          `INSERT INTO outbox (event_id, topic, key, envelope, headers, created_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6::timestamptz)`,
          [
            envelope.id,
            definition.topic,
            subject,
            Buffer.from(common.EventEnvelope.encode(envelope).finish()),
            JSON.stringify(headersFor(envelope)),
            time.toISOString(),
          ],
          signal,
        );
        return envelope;
      });
    },
  };
}
