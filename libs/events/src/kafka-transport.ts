import { type Admin, type Consumer, type IHeaders, Kafka, type logCreator, logLevel, Partitioners, type Producer } from 'kafkajs';
import { cryptoRandom, delay, dependencyUnavailable, isJameyError, systemClock } from '@jamey/core';
import { createRetry, exponentialBackoff } from '@jamey/resilience';
import { type Logger, raceAbort } from '@jamey/data';
import type { EventTransport, ReceivedMessage, Subscription } from './transport.js';

/** Options for {@link createKafkaTransport}. */
export interface KafkaTransportOptions {
  /** Bootstrap servers, `host:port`. */
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Partitions of the topics `ensureTopics` creates (default 3). */
  numPartitions?: number;
  /** Replication factor of the topics `ensureTopics` creates (default 1). */
  replicationFactor?: number;
  /** Consumer session timeout in milliseconds (default 30000). */
  sessionTimeoutMs?: number;
  /**
   * Longest a consumer fetch waits for new messages, in milliseconds (default 500). Stopping a
   * subscription waits for the fetch in flight, so this bounds how long `stop()` takes.
   */
  maxWaitTimeMs?: number;
  /** Retries of a failed broker request before giving up (kafkajs default 5). */
  retries?: number;
  /** Timeout of a new broker connection, in milliseconds (kafkajs default 1000). */
  connectTimeoutMs?: number;
}

/** kafkajs header values are Buffers, strings or arrays of them; handlers get plain strings. */
export function normalizeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    result[name] = values.map((v) => (typeof v === 'string' ? v : v.toString('utf8'))).join(',');
  }
  return result;
}

function kafkaLogger(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, ...fields } = log;
      const entry = { ...fields, namespace };
      if (level === logLevel.ERROR) logger.error(entry, `kafka: ${message}`);
      else if (level === logLevel.WARN) logger.warn(entry, `kafka: ${message}`);
      else logger.debug?.(entry, `kafka: ${message}`);
    };
}

const TOPIC_READY_TIMEOUT_MS = 30_000;

const UNAVAILABLE_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSNonRetriableError',
]);

/**
 * Broker connectivity failures become `DEPENDENCY_UNAVAILABLE` (dependency `kafka`), like the
 * database's; anything else (a protocol error such as an invalid topic) is returned unchanged.
 */
export function translateKafkaError(error: unknown): unknown {
  if (isJameyError(error) || !(error instanceof Error)) return error;
  const retriable = (error as { retriable?: boolean }).retriable === true;
  const connection = UNAVAILABLE_ERRORS.has(error.name) && (error.name !== 'KafkaJSNonRetriableError' || /connect|broker/i.test(error.message));
  return retriable || connection ? dependencyUnavailable('kafka', error) : error;
}

async function translated<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw translateKafkaError(error);
  }
}

/** Waits until every partition of `topics` has a leader, so the first send or join succeeds. */
async function waitForTopics(client: Admin, topics: string[], signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { topics: metadata } = await client.fetchTopicMetadata({ topics });
      const ready = metadata.length === topics.length &&
        metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (ready) return;
    } catch (error) {
      const retriable = (error as { retriable?: boolean }).retriable === true;
      if (!retriable || Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leader after ${TOPIC_READY_TIMEOUT_MS} ms`);
    await delay(Math.min(50 * attempt, 500), signal);
  }
}

function lazily<T>(create: () => Promise<T>): { get(): Promise<T>; peek(): Promise<T> | undefined } {
  let pending: Promise<T> | undefined;
  return {
    get() {
      pending ??= create().catch((error: unknown) => {
        pending = undefined; // let the next call try again
        throw error;
      });
      return pending;
    },
    peek: () => pending,
  };
}

/**
 * Follows a consumer's lag per partition: each fetched batch brings the partition's high
 * watermark, each handled message moves the position; a rebalance forgets partitions the
 * consumer no longer holds. Reports the sum per topic through `onLag`.
 */
function trackLag(consumer: Consumer, onLag: ((lag: { topic: string; messages: number }) => void) | undefined) {
  const partitions = new Map<string, Map<number, { highWatermark: bigint; next: bigint }>>();
  const report = (topic: string): void => {
    let messages = 0n;
    for (const { highWatermark, next } of partitions.get(topic)?.values() ?? []) messages += highWatermark > next ? highWatermark - next : 0n;
    onLag?.({ topic, messages: Number(messages) });
  };
  if (onLag !== undefined) {
    consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
      const { topic, partition, highWatermark, firstOffset } = payload as { topic: string; partition: number; highWatermark: string; firstOffset: string };
      const byPartition = partitions.get(topic) ?? new Map<number, { highWatermark: bigint; next: bigint }>();
      partitions.set(topic, byPartition);
      byPartition.set(partition, { highWatermark: BigInt(highWatermark), next: BigInt(firstOffset) });
      report(topic);
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment;
      for (const [topic, byPartition] of partitions) {
        for (const partition of byPartition.keys()) if (!(assigned[topic] ?? []).includes(partition)) byPartition.delete(partition);
        report(topic);
      }
    });
  }
  return {
    handled(topic: string, partition: number, offset: string): void {
      const state = partitions.get(topic)?.get(partition);
      if (state === undefined) return;
      state.next = BigInt(offset) + 1n;
      report(topic);
    },
  };
}

/**
 * The Kafka {@link EventTransport} (kafkajs).
 *
 * - Producer: idempotent, `acks: -1`, one request in flight, so one key's messages keep their
 *   order and a retried request is not duplicated by the broker.
 * - `ensureTopics` creates only missing topics, with `numPartitions`/`replicationFactor`.
 * - Consumers run with `autoCommit: false`: each message's offset (offset + 1) is committed only
 *   after the handler resolved. A handler that throws leaves it uncommitted; kafkajs then
 *   re-fetches from that message (retrying with backoff, restarting the consumer if needed),
 *   so it is delivered again. Messages of one partition are handled one at a time, in order.
 * - `fromTimestamp` moves the group's committed offsets, per partition, to the first message
 *   at or after that time (via the admin API) before the consumer joins, so the whole group
 *   replays from there. The group must have no running members at that moment.
 */
export function createKafkaTransport(options: KafkaTransportOptions): EventTransport {
  const { logger, numPartitions = 3, replicationFactor = 1, sessionTimeoutMs = 30_000, maxWaitTimeMs = 500 } = options;
  const config = {
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.INFO,
    logCreator: kafkaLogger(logger),
    ...(options.connectTimeoutMs === undefined ? {} : { connectionTimeout: options.connectTimeoutMs }),
  };
  const kafka = new Kafka({ ...config, ...(options.retries === undefined ? {} : { retry: { retries: options.retries } }) });
  // Readiness pings use their own client without retries (kafkajs retries connections at the
  // client level), so an unreachable broker is reported within one connection timeout.
  const pingKafka = new Kafka({ ...config, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = lazily(async () => {
    const client: Admin = kafka.admin();
    await client.connect();
    return client;
  });
  const producer = lazily(async () => {
    const client: Producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await client.connect();
    return client;
  });
  const pingAdmin = lazily(async () => {
    const client: Admin = pingKafka.admin();
    await client.connect();
    return client;
  });
  // Concurrent pings share one request, so a slow broker cannot pile them up.
  let pinging: Promise<void> | undefined;
  const subscriptions = new Set<Subscription>();

  // A fresh broker may still be electing the leaders of topics ensureTopics just created: the
  // offsets lookup then fails with a retriable error (NOT_LEADER_FOR_PARTITION), which kafkajs's
  // admin client does not retry itself.
  const seekRetry = createRetry({
    name: 'kafka:seek-to-timestamp',
    maxRetries: 8,
    backoff: exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 2_000, jitter: 'full' }),
    shouldRetry: (error) => (error as { retriable?: unknown }).retriable === true,
    clock: systemClock,
    random: cryptoRandom,
  });
  const seekToTimestamp = async (groupId: string, topics: string[], timestamp: number): Promise<void> => {
    const client = await admin.get();
    for (const topic of topics) {
      const partitions = await seekRetry.execute(() => client.fetchTopicOffsetsByTimestamp(topic, timestamp));
      await seekRetry.execute(() => client.setOffsets({ groupId, topic, partitions }));
      logger.info({ groupId, topic, timestamp, partitions }, 'consumer group moved to timestamp');
    }
  };

  return {
    system: 'kafka',

    async ensureTopics(topics, signal) {
      const work = (async () => {
        const client = await admin.get();
        const existing = new Set(await client.listTopics());
        const missing = [...new Set(topics)].filter((topic) => !existing.has(topic));
        if (missing.length === 0) return;
        try {
          // waitForLeaders is not used: kafkajs only retries LEADER_NOT_AVAILABLE there, while a
          // fresh KRaft broker may first answer UNKNOWN_TOPIC_OR_PARTITION. waitForTopics retries both.
          await client.createTopics({
            waitForLeaders: false,
            topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor })),
          });
        } catch (error) {
          // Another process created them between listTopics and createTopics.
          const nested = (error as { errors?: Array<{ type?: string }> }).errors ?? [];
          const raced = (error as { type?: string }).type === 'TOPIC_ALREADY_EXISTS' ||
            (nested.length > 0 && nested.every((e) => e.type === 'TOPIC_ALREADY_EXISTS'));
          if (!raced) throw error;
        }
        await waitForTopics(client, missing, signal);
      })();
      await translated(raceAbort(work, signal));
    },

    async send(topic, messages, signal) {
      if (messages.length === 0) return;
      const client = await translated(raceAbort(producer.get(), signal));
      await translated(
        raceAbort(
          client.send({
            topic,
            acks: -1,
            messages: messages.map((message) => ({ key: message.key, value: message.value, headers: message.headers })),
          }),
          signal,
        ),
      );
    },

    async subscribe({ groupId, topics, fromBeginning = false, fromTimestamp, handler, onLag }) {
      if (fromTimestamp !== undefined) await seekToTimestamp(groupId, topics, fromTimestamp);
      const consumer: Consumer = kafka.consumer({
        groupId,
        sessionTimeout: sessionTimeoutMs,
        maxWaitTimeInMs: maxWaitTimeMs,
        allowAutoTopicCreation: false,
      });
      const lag = trackLag(consumer, onLag);
      await consumer.connect();
      try {
        await consumer.subscribe({ topics, fromBeginning });
        await consumer.run({
          autoCommit: false,
          eachMessage: async ({ topic, partition, message }) => {
            const received: ReceivedMessage = {
              topic,
              partition,
              offset: message.offset,
              key: message.key?.toString('utf8') ?? '',
              value: message.value ?? Buffer.alloc(0),
              headers: normalizeHeaders(message.headers),
              timestamp: Number(message.timestamp),
            };
            await handler(received);
            await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
            lag.handled(topic, partition, message.offset);
          },
        });
      } catch (error) {
        await consumer.disconnect().catch(() => undefined);
        throw error;
      }
      const subscription: Subscription = {
        async stop() {
          subscriptions.delete(subscription);
          // Waits for the eachMessage call in flight; an offset it has not committed stays uncommitted.
          await consumer.disconnect();
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },

    async ping(signal) {
      pinging ??= (async () => {
        const client = await pingAdmin.get();
        await client.describeCluster();
      })().finally(() => {
        pinging = undefined;
      });
      await translated(raceAbort(pinging, signal));
    },

    async close() {
      await Promise.allSettled([...subscriptions].map((s) => s.stop()));
      const clients = [producer.peek(), admin.peek(), pingAdmin.peek()].filter((c) => c !== undefined);
      await Promise.allSettled(clients.map(async (c) => (await c).disconnect()));
    },
  };
}
