/**
 * Jamey's typed events: the event catalog, the protobuf envelope, a transactional outbox with
 * its relay, idempotent consumers with dead-letter topics, and two transports behind one
 * interface (Kafka, and an in-process bus for embedded mode).
 */
export {
  ACCESS_RECORD_SCHEMA,
  type Catalog,
  type CatalogDefinition,
  catalog,
  type DecodedEvent,
  deadLetterTopicFor,
  decodeEnvelope,
  decodeEventData,
  defineEvent,
  EventDecodeError,
  type EventDecodeReason,
  type EventData,
  type EventDefinition,
  type EventSchema,
  type EventType,
  eventDataToJson,
  findEventDefinition,
  topicFor,
} from './catalog.js';
export {
  ACCESS_TEXT_MAX_CHARS,
  type AccessMetrics,
  AccessOutcome,
  AccessProtocol,
  type AccessRecord,
  type AccessRecordInput,
  accessRecord,
  accessSubject,
  callDeniedEvent,
  type CallDeniedSource,
  createAccessMetrics,
  outcomeName,
  outcomeOfGrpcCode,
  outcomeOfHttpStatus,
} from './access.js';
export {
  type AccessRecorder,
  type AccessRecorderOptions,
  createAccessRecorder,
  type RefusalBudget,
  type RefusalResult,
  type RefusedAccess,
} from './access-recorder.js';
export { eventsMigrationsDir, eventsMigrationsTable } from './migrations.js';
export {
  createOutbox,
  EVENT_ID_HEADER,
  EVENT_TYPE_HEADER,
  headersFor,
  type Outbox,
  type OutboxEvent,
  type OutboxOptions,
  type TraceContext,
} from './outbox.js';
export type { EventTransport, ReceivedMessage, SubscribeOptions, Subscription, TransportMessage } from './transport.js';
export { createKafkaTransport, type KafkaTransportOptions, normalizeHeaders, translateKafkaError } from './kafka-transport.js';
export { createInProcessTransport, type InProcessTransportOptions } from './in-process-transport.js';
export { BACKLOG_COUNT_LIMIT, createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './relay.js';
export {
  type ConsumedEvent,
  createEventConsumer,
  DLQ_HEADERS,
  type EventConsumer,
  type EventConsumerOptions,
} from './consumer.js';
export { combineObservers, type DeadLetterReason, type EventsObservation, type EventsObserver } from './observe.js';
export { createEventsMetrics, type EventsMetrics, type EventsMetricsOptions } from './metrics.js';
export { MESSAGING_ATTRIBUTES, parseTraceparent } from './tracing.js';
