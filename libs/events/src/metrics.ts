import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { deadLetterTopicFor } from './catalog.js';
import type { EventsObserver } from './observe.js';

/** Prometheus metrics of a service's outbox, relay and consumers. */
export interface EventsMetrics {
  /** Turns relay and consumer observations into the metrics; pass it as their `onEvent`. */
  readonly observe: EventsObserver;
  /**
   * Makes `jamey_outbox_backlog_events` count unpublished outbox rows at each scrape through
   * `backlog` (the relay's), bounded by `timeoutMs`. A scrape that cannot count keeps the last value.
   */
  trackOutboxBacklog(backlog: (signal: AbortSignal) => Promise<number>): void;
}

/** Options for {@link createEventsMetrics}. */
export interface EventsMetricsOptions {
  /** How long a scrape waits for the outbox count, in milliseconds (default 1000). */
  readonly backlogTimeoutMs?: number;
  /** Told when the outbox count fails (default: ignored). */
  readonly onBacklogError?: (error: unknown) => void;
}

/** Processing durations, 1 ms to 30 s. */
const PROCESSING_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Registers the Kafka and outbox metrics on `registry` (names agreed across services; labels
 * are topics, groups, outcomes and reasons, never ids):
 *
 * - `jamey_kafka_messages_produced_total{topic}`: messages the relay (and dead-lettering) sent.
 * - `jamey_kafka_messages_consumed_total{group,topic,outcome}`: deliveries by how they ended:
 *   `processed`, `duplicate` (already processed, skipped), `failed` (a dependency was down
 *   after every attempt; left uncommitted for redelivery) or `dead_lettered`.
 * - `jamey_kafka_message_processing_duration_seconds{group,topic}`: time per delivery.
 * - `jamey_kafka_consumer_lag_messages{group,topic}`: messages not handled yet, summed over the
 *   partitions this process holds (sum over pods for the group's total).
 * - `jamey_kafka_dead_letters_total{group,topic,reason}`: messages dead-lettered, by reason.
 * - `jamey_outbox_backlog_events`: unpublished outbox rows (see {@link EventsMetrics.trackOutboxBacklog}).
 * - `jamey_outbox_publish_failures_total`: failed relay sends (each retried later).
 */
export function createEventsMetrics(registry: Registry, options: EventsMetricsOptions = {}): EventsMetrics {
  const registers = [registry];
  const produced = new Counter({
    name: 'jamey_kafka_messages_produced_total',
    help: 'Messages published to Kafka (or the in-process bus), by topic.',
    labelNames: ['topic'],
    registers,
  });
  const consumed = new Counter({
    name: 'jamey_kafka_messages_consumed_total',
    help: 'Message deliveries handled by a consumer group, by outcome (processed, duplicate, failed, dead_lettered).',
    labelNames: ['group', 'topic', 'outcome'],
    registers,
  });
  const duration = new Histogram({
    name: 'jamey_kafka_message_processing_duration_seconds',
    help: 'Time to handle one message delivery, in seconds.',
    labelNames: ['group', 'topic'],
    buckets: PROCESSING_BUCKETS_SECONDS,
    registers,
  });
  const lag = new Gauge({
    name: 'jamey_kafka_consumer_lag_messages',
    help: 'Messages not yet handled by the consumer group, summed over the partitions this process holds.',
    labelNames: ['group', 'topic'],
    registers,
  });
  const deadLetters = new Counter({
    name: 'jamey_kafka_dead_letters_total',
    help: 'Messages sent to the consumer group\'s dead-letter topic, by reason.',
    labelNames: ['group', 'topic', 'reason'],
    registers,
  });
  const publishFailures = new Counter({
    name: 'jamey_outbox_publish_failures_total',
    help: 'Outbox relay sends that failed (the rows stay unpublished and are retried).',
    registers,
  });
  let backlog: ((signal: AbortSignal) => Promise<number>) | undefined;
  const backlogTimeoutMs = options.backlogTimeoutMs ?? 1000;
  new Gauge({
    name: 'jamey_outbox_backlog_events',
    help: 'Outbox rows committed but not yet published.',
    registers,
    async collect() {
      if (backlog === undefined) return;
      try {
        this.set(await backlog(AbortSignal.timeout(backlogTimeoutMs)));
      } catch (error) {
        options.onBacklogError?.(error);
      }
    },
  });

  const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);
  const delivery = (group: string, topic: string, outcome: string, durationMs: number | undefined): void => {
    consumed.inc({ group, topic, outcome });
    const s = seconds(durationMs);
    if (s !== undefined) duration.observe({ group, topic }, s);
  };

  return {
    observe(observation) {
      switch (observation.kind) {
        case 'published':
          produced.inc({ topic: observation.topic }, observation.count);
          break;
        case 'publish_failed':
          publishFailures.inc();
          break;
        case 'consumed':
          delivery(observation.groupId, observation.topic, 'processed', observation.durationMs);
          break;
        case 'duplicate':
          delivery(observation.groupId, observation.topic, 'duplicate', observation.durationMs);
          break;
        case 'failed':
          delivery(observation.groupId, observation.topic, 'failed', observation.durationMs);
          break;
        case 'dead_lettered':
          delivery(observation.groupId, observation.topic, 'dead_lettered', observation.durationMs);
          deadLetters.inc({ group: observation.groupId, topic: observation.topic, reason: observation.reason });
          produced.inc({ topic: deadLetterTopicFor(observation.groupId) });
          break;
        case 'lag':
          lag.set({ group: observation.groupId, topic: observation.topic }, observation.messages);
          break;
        case 'handler_failed':
          // One failed attempt; the delivery's outcome is counted when it ends.
          break;
      }
    },
    trackOutboxBacklog(count) {
      backlog = count;
    },
  };
}
