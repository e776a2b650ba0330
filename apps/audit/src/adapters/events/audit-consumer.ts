import type { Clock } from '@jamey/core';
import type { Database, Logger } from '@jamey/data';
import {
  createEventConsumer,
  eventDataToJson,
  type ConsumedEvent,
  type EventConsumer,
  type EventsObserver,
  type EventTransport,
} from '@jamey/events';
import { consumerPolicy, EVENT_FLOWS, eventTopic, type ServiceName } from '@jamey/topology';
import type { AuditLog } from '../../domain/audit-log.js';
import type { AuditEntry } from '../../domain/audit-record.js';

/** The consumer group of the audit service; its dead-letter topic is `jamey.audit.dlq.v1`. */
export const AUDIT_GROUP_ID = 'audit';

/**
 * Every topic the audit service consumes: the producers' topics from the topology's event
 * flows, and audit's own, on which its kit publishes `audit.call_denied` for the calls audit
 * itself refuses (through its outbox like every service, so a crash loses none).
 */
export function auditTopics(): string[] {
  const producers = Object.entries(EVENT_FLOWS)
    .filter(([, consumers]) => consumers.includes('audit'))
    .map(([producer]) => producer as ServiceName);
  return [...new Set([...producers, 'audit' as const])].map(eventTopic).sort();
}

/** The audit entry of a consumed event. */
export function toAuditEntry(event: ConsumedEvent): AuditEntry {
  const { envelope } = event;
  return {
    eventId: envelope.id,
    type: envelope.type,
    source: envelope.source,
    subject: envelope.subject,
    // An envelope without a time is malformed, but the log still keeps it; the epoch marks it.
    eventTime: envelope.time ?? new Date(0),
    traceparent: envelope.traceparent,
    dataSchema: envelope.dataSchema,
    dataJson: eventDataToJson(envelope) ?? null,
    // The bytes as they arrived, so a newer producer's unknown fields are kept too.
    envelope: event.value,
    topic: event.topic,
  };
}

/** Options of {@link createAuditConsumer}. */
export interface AuditConsumerOptions {
  readonly db: Database;
  readonly transport: EventTransport;
  readonly log: AuditLog;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Replay every topic from the first event at or after this time (Kafka only). */
  readonly replayFrom?: Date | undefined;
  readonly onEvent?: EventsObserver | undefined;
  /** Consumer group; its dead-letter topic is `jamey.<group>.dlq.v1`. Default {@link AUDIT_GROUP_ID}. */
  readonly groupId?: string | undefined;
}

/**
 * The audit consumer: one group over every domain topic. Each event is recorded in the
 * consumer's own transaction, so the record and the processed id commit together.
 */
export function createAuditConsumer(options: AuditConsumerOptions): EventConsumer {
  const { log } = options;
  const groupId = options.groupId ?? AUDIT_GROUP_ID;
  const retry = consumerPolicy(groupId);
  return createEventConsumer({
    db: options.db,
    transport: options.transport,
    groupId,
    maxAttempts: retry.maxAttempts,
    backoffMs: retry.initialBackoffMs,
    maxBackoffMs: retry.maxBackoffMs,
    topics: auditTopics(),
    logger: options.logger,
    clock: options.clock,
    fromBeginning: true,
    fromTimestamp: options.replayFrom?.getTime(),
    onEvent: options.onEvent,
    handle: async (event, tx) => {
      await log.record(tx, toAuditEntry(event), event.signal);
    },
  });
}
