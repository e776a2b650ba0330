/**
 * Test helpers for `@jamey/events` users (`@jamey/events/testing`).
 */
import { type EventData, type EventType, decodeEnvelope, decodeEventData, topicFor } from './catalog.js';
import { createInProcessTransport } from './in-process-transport.js';
import type { EventTransport, ReceivedMessage } from './transport.js';

/**
 * Wraps a transport so every topic gets `.<suffix>` appended on the wire (and removed again on
 * received messages). Tests against a shared Kafka broker use it to keep the catalog's topic
 * names in code while never seeing another run's messages.
 */
export function withTopicSuffix(inner: EventTransport, suffix: string): EventTransport {
  const wire = (topic: string): string => `${topic}.${suffix}`;
  const tail = `.${suffix}`;
  const local = (topic: string): string => (topic.endsWith(tail) ? topic.slice(0, -tail.length) : topic);
  return {
    ...(inner.system === undefined ? {} : { system: inner.system }),
    ensureTopics: (topics, signal) => inner.ensureTopics(topics.map(wire), signal),
    send: (topic, messages, signal) => inner.send(wire(topic), messages, signal),
    subscribe: (options) =>
      inner.subscribe({
        ...options,
        topics: options.topics.map(wire),
        handler: (message: ReceivedMessage) => options.handler({ ...message, topic: local(message.topic) }),
        onLag: options.onLag && ((lag) => options.onLag?.({ ...lag, topic: local(lag.topic) })),
      }),
    close: () => inner.close(),
  };
}

/** The catalog's event types published by `source`, e.g. `'memory.encoded' | 'memory.deleted'` for `memory`. */
export type EventTypeOf<S extends string> = Extract<EventType, `${S}.${string}`>;

/** Events one service published, queued per type and subject in delivery order. For tests. */
export interface EventLog<S extends string> {
  /**
   * The next not-yet-taken event of `type` about `subject` (the envelope subject, i.e. the
   * aggregate id), waiting for it if needed. Rejects after `timeoutMs` (default 10 000 ms) so a
   * missing event fails the test instead of hanging it.
   */
  next<K extends EventTypeOf<S>>(type: K, subject: string, timeoutMs?: number): Promise<EventData<K>>;
  /**
   * How many events of `type` (about `subject`, or about any subject when it is omitted) were
   * delivered and not taken yet. Lets a test assert that an action emitted nothing: take a
   * later event first (the relay publishes in commit order, so everything committed before it
   * has been delivered by then), then check the count did not grow.
   */
  pending(type: EventTypeOf<S>, subject?: string): number;
  /** Stops the subscription and closes the transport. */
  close(): Promise<void>;
}

/** Options for {@link createEventLog}. */
export interface EventLogOptions<S extends string> {
  /** The producing service, e.g. `memory`; the log follows `jamey.<source>.events.v1`. */
  source: S;
  /** The test consumer group's id (default `<source>-event-log`). */
  groupId?: string;
}

interface Waiter {
  resolve(data: unknown): void;
}

/**
 * Creates an in-process transport with a test consumer group subscribed to `source`'s topic, to
 * hand to the service under test, and a log of the events that group received.
 *
 * The group is declared durable on the transport and subscribed before this resolves, so no
 * event the relay sends can bypass it (the bus keeps no history). Duplicates of one event id
 * (at-least-once delivery) are dropped, as a real consumer would. An envelope from another
 * source, or whose subject is not the message key, fails delivery (and so the relay's send).
 */
export async function createEventLog<S extends string>(
  options: EventLogOptions<S>,
): Promise<{ transport: EventTransport; log: EventLog<S> }> {
  const { source } = options;
  const topic = topicFor(source);
  const groupId = options.groupId ?? `${source}-event-log`;
  const transport = createInProcessTransport({ durableGroups: { [groupId]: [topic] } });
  const queues = new Map<string, unknown[]>();
  const waiters = new Map<string, Waiter[]>();
  const seen = new Set<string>();
  const keyOf = (type: string, subject: string): string => `${type}|${subject}`;

  const subscription = await transport.subscribe({
    groupId,
    topics: [topic],
    handler: async (message) => {
      const envelope = decodeEnvelope(message.value);
      if (seen.has(envelope.id)) return;
      if (envelope.source !== source || envelope.subject !== message.key) {
        throw new Error(
          `unexpected envelope ${envelope.type} source=${envelope.source} subject=${envelope.subject} key=${message.key}`,
        );
      }
      const { data } = decodeEventData(envelope);
      seen.add(envelope.id);
      const key = keyOf(envelope.type, envelope.subject);
      const waiter = waiters.get(key)?.shift();
      if (waiter) waiter.resolve(data);
      else queues.set(key, [...(queues.get(key) ?? []), data]);
    },
  });

  const log: EventLog<S> = {
    next<K extends EventTypeOf<S>>(type: K, subject: string, timeoutMs = 10_000): Promise<EventData<K>> {
      const key = keyOf(type, subject);
      const queued = queues.get(key);
      if (queued && queued.length > 0) return Promise.resolve(queued.shift() as EventData<K>);
      return new Promise<EventData<K>>((resolve, reject) => {
        const waiter: Waiter = {
          resolve: (data) => {
            clearTimeout(timer);
            resolve(data as EventData<K>);
          },
        };
        const timer = setTimeout(() => {
          const list = waiters.get(key) ?? [];
          const index = list.indexOf(waiter);
          if (index >= 0) list.splice(index, 1);
          reject(new Error(`no ${type} event for ${subject} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.set(key, [...(waiters.get(key) ?? []), waiter]);
      });
    },
    pending(type, subject) {
      if (subject !== undefined) return queues.get(keyOf(type, subject))?.length ?? 0;
      let count = 0;
      for (const [key, queue] of queues) if (key.startsWith(`${type}|`)) count += queue.length;
      return count;
    },
    async close() {
      await subscription.stop();
      await transport.close();
    },
  };
  return { transport, log };
}
