import { access, common, consciousnessEvents, memoryEvents, soulEvents, telemetryEvents } from '@jamey/proto';

/**
 * What the catalog needs from a ts-proto message: binary and canonical-JSON codecs. Every
 * generated message constant (`memoryEvents.MemoryEncoded` …) satisfies it.
 */
export interface EventSchema<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
}

/** One event type: its name, producer, topic and payload schema. */
export interface EventDefinition<TType extends string = string, TData = unknown> {
  /** Dotted type, `<source>.<name>`, e.g. `memory.encoded`. */
  readonly type: TType;
  /** The producing service, e.g. `memory`. */
  readonly source: string;
  /** `jamey.<source>.events.v1`. */
  readonly topic: string;
  /** Fully qualified protobuf message name of the payload (the envelope's `data_schema`). */
  readonly dataSchema: string;
  readonly schema: EventSchema<TData>;
}

/** The topic a service publishes its events on: `jamey.<source>.events.v1`. */
export function topicFor(source: string): string {
  return `jamey.${source}.events.v1`;
}

/** The dead-letter topic of a consumer group: `jamey.<groupId>.dlq.v1`. */
export function deadLetterTopicFor(groupId: string): string {
  return `jamey.${groupId}.dlq.v1`;
}

const NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Declares an event type. `dataSchema` is the fully qualified protobuf name of `schema`
 * (ts-proto is generated without a type registry, so the message constant does not carry it).
 * Throws a `TypeError` when `type` is not `<source>.<snake_case_name>`.
 */
export function defineEvent<const TType extends string, TData>(spec: {
  type: TType;
  source: string;
  dataSchema: string;
  schema: EventSchema<TData>;
}): EventDefinition<TType, TData> {
  const [source, name, ...rest] = spec.type.split('.');
  if (source !== spec.source || name === undefined || !NAME.test(name) || !NAME.test(source) || rest.length > 0) {
    throw new TypeError(`event type "${spec.type}" must be "${spec.source}.<snake_case_name>"`);
  }
  return Object.freeze({ ...spec, topic: topicFor(spec.source) });
}

/** The payload of every access event: `jamey.audit.v1.AccessRecord`. */
export const ACCESS_RECORD_SCHEMA = `${access.protobufPackage}.AccessRecord`;

/** An access event of `source`; they all share the {@link ACCESS_RECORD_SCHEMA} payload. */
function accessEvent<const TType extends string>(type: TType, source: string) {
  return defineEvent({ type, source, dataSchema: ACCESS_RECORD_SCHEMA, schema: access.AccessRecord });
}

/**
 * Every event Jamey publishes, keyed by type. Access events (security-relevant outcomes, payload
 * `jamey.audit.v1.AccessRecord`) follow the `<source>.<name>` rule like every other event, so
 * each producer publishes them on its own topic through its own outbox:
 * - `gateway.request_completed`: one gateway request, whatever its outcome (authentication
 *   and authorization failures included);
 * - `<service>.call_denied`: a gRPC call that `<service>` refused (UNAUTHENTICATED or
 *   PERMISSION_DENIED) before any handler ran.
 */
export const catalog = Object.freeze({
  'memory.encoded': defineEvent({
    type: 'memory.encoded',
    source: 'memory',
    dataSchema: `${memoryEvents.protobufPackage}.MemoryEncoded`,
    schema: memoryEvents.MemoryEncoded,
  }),
  'memory.deleted': defineEvent({
    type: 'memory.deleted',
    source: 'memory',
    dataSchema: `${memoryEvents.protobufPackage}.MemoryDeleted`,
    schema: memoryEvents.MemoryDeleted,
  }),
  'soul.entity_upserted': defineEvent({
    type: 'soul.entity_upserted',
    source: 'soul',
    dataSchema: `${soulEvents.protobufPackage}.EntityUpserted`,
    schema: soulEvents.EntityUpserted,
  }),
  'soul.trust_changed': defineEvent({
    type: 'soul.trust_changed',
    source: 'soul',
    dataSchema: `${soulEvents.protobufPackage}.TrustChanged`,
    schema: soulEvents.TrustChanged,
  }),
  'consciousness.perceived': defineEvent({
    type: 'consciousness.perceived',
    source: 'consciousness',
    dataSchema: `${consciousnessEvents.protobufPackage}.Perceived`,
    schema: consciousnessEvents.Perceived,
  }),
  'consciousness.focus_changed': defineEvent({
    type: 'consciousness.focus_changed',
    source: 'consciousness',
    dataSchema: `${consciousnessEvents.protobufPackage}.FocusChanged`,
    schema: consciousnessEvents.FocusChanged,
  }),
  'telemetry.alert_fired': defineEvent({
    type: 'telemetry.alert_fired',
    source: 'telemetry',
    dataSchema: `${telemetryEvents.protobufPackage}.AlertFired`,
    schema: telemetryEvents.AlertFired,
  }),
  'telemetry.alert_resolved': defineEvent({
    type: 'telemetry.alert_resolved',
    source: 'telemetry',
    dataSchema: `${telemetryEvents.protobufPackage}.AlertResolved`,
    schema: telemetryEvents.AlertResolved,
  }),
  'gateway.request_completed': accessEvent('gateway.request_completed', 'gateway'),
  'memory.call_denied': accessEvent('memory.call_denied', 'memory'),
  'soul.call_denied': accessEvent('soul.call_denied', 'soul'),
  'consciousness.call_denied': accessEvent('consciousness.call_denied', 'consciousness'),
  'audit.call_denied': accessEvent('audit.call_denied', 'audit'),
  'telemetry.call_denied': accessEvent('telemetry.call_denied', 'telemetry'),
});

/** The catalog's shape. */
export type Catalog = typeof catalog;
/** Every event type in the catalog. */
export type EventType = keyof Catalog;
/** The payload type of event type `K`. */
export type EventData<K extends EventType> = Catalog[K] extends EventDefinition<K, infer D> ? D : never;
/** Any catalog definition. */
export type CatalogDefinition = Catalog[EventType];

/** The definition for `type`, or `undefined` when the catalog does not know it. */
export function findEventDefinition(type: string): CatalogDefinition | undefined {
  return Object.hasOwn(catalog, type) ? catalog[type as EventType] : undefined;
}

/** Why an event could not be used; also the `x-dlq-reason` header of a dead letter. */
export type EventDecodeReason = 'malformed_envelope' | 'unknown_type' | 'undecodable_data';

/** An envelope or payload that cannot be decoded; `reason` says which part failed. */
export class EventDecodeError extends Error {
  override readonly name = 'EventDecodeError';
  readonly reason: EventDecodeReason;

  constructor(reason: EventDecodeReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** A catalog event with its decoded payload; narrow it with `type`. */
export type DecodedEvent = {
  [K in EventType]: { type: K; definition: Catalog[K]; data: EventData<K> };
}[EventType];

/**
 * Decodes an encoded `common.EventEnvelope`. Throws {@link EventDecodeError} with reason
 * `malformed_envelope` when the bytes are not an envelope or it lacks an id or type.
 */
export function decodeEnvelope(bytes: Uint8Array): common.EventEnvelope {
  let envelope: common.EventEnvelope;
  try {
    envelope = common.EventEnvelope.decode(bytes);
  } catch (error) {
    throw new EventDecodeError('malformed_envelope', `not an EventEnvelope: ${(error as Error).message}`, { cause: error });
  }
  if (envelope.id === '' || envelope.type === '') {
    throw new EventDecodeError('malformed_envelope', 'EventEnvelope without id or type');
  }
  return envelope;
}

/**
 * Looks the envelope's type up in the catalog and decodes its payload. Throws
 * {@link EventDecodeError}: `unknown_type` when the catalog does not know the type,
 * `undecodable_data` when the payload is not a valid message of its schema (or names another
 * `data_schema`).
 */
export function decodeEventData(envelope: common.EventEnvelope): DecodedEvent {
  const definition = findEventDefinition(envelope.type);
  if (definition === undefined) {
    throw new EventDecodeError('unknown_type', `unknown event type "${envelope.type}"`);
  }
  if (envelope.dataSchema !== '' && envelope.dataSchema !== definition.dataSchema) {
    throw new EventDecodeError(
      'undecodable_data',
      `event ${envelope.type} carries ${envelope.dataSchema}, expected ${definition.dataSchema}`,
    );
  }
  try {
    const data = (definition.schema as EventSchema<unknown>).decode(envelope.data);
    return { type: definition.type, definition, data } as DecodedEvent;
  } catch (error) {
    throw new EventDecodeError('undecodable_data', `cannot decode ${definition.dataSchema}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * The payload as canonical protobuf JSON text (ts-proto's `toJSON`), for audit records.
 * `undefined` when the type is unknown or the payload does not decode.
 */
export function eventDataToJson(envelope: common.EventEnvelope): string | undefined {
  try {
    const { definition, data } = decodeEventData(envelope);
    return JSON.stringify((definition.schema as EventSchema<unknown>).toJSON(data));
  } catch (error) {
    if (error instanceof EventDecodeError) return undefined;
    throw error;
  }
}
