import {
  createInProcessTransport,
  decodeEnvelope,
  decodeEventData,
  topicFor,
  type EventData,
  type EventTransport,
} from '@jamey/events';

/** The soul's event types. */
export type SoulEventType = 'soul.entity_upserted' | 'soul.trust_changed';

/** Events the soul published, queued per type and subject, in delivery order. For tests. */
export interface SoulEventLog {
  /**
   * The next not-yet-taken event of `type` about `subject`, waiting for it if needed.
   * Rejects after `timeoutMs` (default 10 s) so a missing event fails the test instead of hanging.
   */
  next<K extends SoulEventType>(type: K, subject: string, timeoutMs?: number): Promise<EventData<K>>;
  /** Stops the subscription and closes the transport. */
  close(): Promise<void>;
}

interface Waiter {
  resolve(data: unknown): void;
}

/**
 * Creates an in-process transport with a test consumer group already subscribed to
 * `jamey.soul.events.v1` (the bus keeps no history, so it must subscribe before the relay runs).
 * Duplicates of one event id (at-least-once delivery) are dropped, as a real consumer would.
 */
export async function createSoulEventLog(): Promise<{ transport: EventTransport; log: SoulEventLog }> {
  const transport = createInProcessTransport();
  const queues = new Map<string, unknown[]>();
  const waiters = new Map<string, Waiter[]>();
  const seen = new Set<string>();

  const subscription = await transport.subscribe({
    groupId: 'soul-service-test',
    topics: [topicFor('soul')],
    handler: async (message) => {
      const envelope = decodeEnvelope(message.value);
      if (seen.has(envelope.id)) return;
      seen.add(envelope.id);
      if (envelope.source !== 'soul' || envelope.subject !== message.key) {
        throw new Error(`unexpected envelope ${envelope.type} source=${envelope.source} subject=${envelope.subject} key=${message.key}`);
      }
      const { data } = decodeEventData(envelope);
      const key = `${envelope.type}|${envelope.subject}`;
      const waiter = waiters.get(key)?.shift();
      if (waiter) waiter.resolve(data);
      else queues.set(key, [...(queues.get(key) ?? []), data]);
    },
  });

  const log: SoulEventLog = {
    next<K extends SoulEventType>(type: K, subject: string, timeoutMs = 10_000): Promise<EventData<K>> {
      const key = `${type}|${subject}`;
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
          list.splice(list.indexOf(waiter), 1);
          reject(new Error(`no ${type} event for ${subject} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.set(key, [...(waiters.get(key) ?? []), waiter]);
      });
    },
    async close() {
      await subscription.stop();
      await transport.close();
    },
  };
  return { transport, log };
}
