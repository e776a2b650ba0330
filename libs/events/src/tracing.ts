import {
  type Attributes,
  context,
  createTraceState,
  type Link,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import type { TraceContext } from './outbox.js';

/**
 * The messaging spans of Jamey's events, made here rather than by the kafkajs instrumentation
 * so they mean the same on Kafka and on the in-process bus (OpenTelemetry messaging semantic
 * conventions):
 *
 * - `create <topic>` (producer): `outbox.append`, inside the request that changed state. Its
 *   context is stored with the event (envelope and `traceparent`/`tracestate` headers).
 * - `send <topic>` (producer): one per relay batch, a new trace linked to the `create` span of
 *   every event it carries. The relay publishes long after the request ended, from its own
 *   loop, so its span is no child of anything.
 * - `process <topic>` (consumer): one per delivery, a new trace linked to the event's `create`
 *   span. Linked, not a child: a consumer may run seconds or days later (lag, redelivery,
 *   replay, dead-letter reprocessing), several groups consume each event, and a child would
 *   stretch the producing request's trace over all of that. See docs/observability.md.
 */
export function eventsTracer(): Tracer {
  return trace.getTracer('@jamey/events');
}

/** Messaging span attribute names (semantic conventions 1.x). */
export const MESSAGING_ATTRIBUTES = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  consumerGroup: 'messaging.consumer.group.name',
  partition: 'messaging.destination.partition.id',
  key: 'messaging.kafka.message.key',
  offset: 'messaging.kafka.offset',
  eventType: 'jamey.event.type',
} as const;

/** `messaging.system` when the transport does not say: Kafka. */
export const DEFAULT_MESSAGING_SYSTEM = 'kafka';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Parses a W3C `traceparent` (and `tracestate`) header into a remote span context. Returns
 * undefined for a missing or malformed header, an all-zero id, the forbidden version `ff`, or
 * trailing data on version 00; a bad header must not fail the message carrying it.
 */
export function parseTraceparent(traceparent: string | undefined, tracestate?: string): SpanContext | undefined {
  const match = TRACEPARENT.exec((traceparent ?? '').trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & 1,
    isRemote: true,
    ...(tracestate === undefined || tracestate.trim() === '' ? {} : { traceState: createTraceState(tracestate) }),
  };
}

/** The W3C headers of a span's context: what the outbox stores with the event. Empty for an invalid context. */
export function traceContextOf(span: Span): TraceContext {
  const spanContext = span.spanContext();
  if (!trace.isSpanContextValid(spanContext)) return {};
  const flags = `0${(spanContext.traceFlags & 0xff).toString(16)}`.slice(-2);
  const tracestate = spanContext.traceState?.serialize();
  return {
    traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
    ...(tracestate ? { tracestate } : {}),
  };
}

/** A link to the producer of the message with these headers, if they carry a valid `traceparent`. */
export function producerLink(headers: Readonly<Record<string, string>>): Link[] {
  const producer = parseTraceparent(headers['traceparent'], headers['tracestate']);
  return producer === undefined ? [] : [{ context: producer }];
}

/**
 * Runs `work` inside a new span with STYLE.md's one shape: `recordException` and an error
 * status in `catch`, `end()` in `finally`. `root` starts a new trace instead of a child of the
 * active span.
 */
export async function inSpan<T>(
  name: string,
  options: { kind: SpanKind; attributes: Attributes; links?: Link[]; root?: boolean },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const span = eventsTracer().startSpan(name, options, options.root === true ? undefined : context.active());
  try {
    return await context.with(trace.setSpan(context.active(), span), () => work(span));
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Records `error` on `span` and sets its status to error. */
export function markFailed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

export { SpanKind };
