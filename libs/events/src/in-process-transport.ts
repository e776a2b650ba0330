import { type Clock, systemClock } from '@jamey/core';
import { type Logger, raceAbort, silentLogger } from '@jamey/data';
import type { EventTransport, ReceivedMessage, Subscription } from './transport.js';

/** Options for {@link createInProcessTransport}. */
export interface InProcessTransportOptions {
  /** Stamps `ReceivedMessage.timestamp` (default: the system clock). */
  clock?: Clock;
  logger?: Logger;
  /**
   * Consumer groups that must receive every message of the listed topics even when they are
   * not subscribed at the moment of `send` (group id → topics). `send` then waits until such a
   * group subscribes and handles the messages, so a relay that starts before the consumer, or
   * runs while it restarts, cannot skip it. Undeclared groups only get what is sent while they
   * are subscribed.
   */
  durableGroups?: Readonly<Record<string, readonly string[]>>;
}

interface Member {
  readonly topics: ReadonlySet<string>;
  readonly handler: (message: ReceivedMessage) => Promise<void>;
  readonly onLag: ((lag: { topic: string; messages: number }) => void) | undefined;
  readonly inFlight: Set<Promise<void>>;
  active: boolean;
}

interface Group {
  readonly members: Member[];
  /** Topics this group must receive even while nobody in it is subscribed. */
  readonly durableTopics: ReadonlySet<string>;
  /** Resolved (and replaced) whenever a member subscribes or the transport closes. */
  changed: { promise: Promise<void>; notify: () => void };
  /** The tail of each topic's delivery chain, so one topic's messages reach the group in order. */
  readonly chains: Map<string, Promise<void>>;
  /** Messages sent to each topic and not handled by this group yet: its lag. */
  readonly pending: Map<string, number>;
}

/**
 * The embedded event bus: the same {@link EventTransport} contract as Kafka, for running every
 * service in one Node process. Semantics:
 *
 * - `send` resolves only after every consumer group subscribed to the topic has handled
 *   (committed) every message. The outbox relay marks a row published only after that, so a
 *   crash before then leaves the row unpublished and it is sent again on restart; consumers
 *   are idempotent (they record processed event ids).
 * - Within a group, one topic's messages are handled one at a time, in send order (so in
 *   order per key); groups are independent and run concurrently. Within a group one active
 *   subscription receives each message.
 * - A handler error, or a group stopping before it handled a message, rejects `send` (with an
 *   `AggregateError` when several groups failed); the relay retries the batch later, and groups
 *   that had already handled it skip the duplicates by event id.
 * - There is no retention: a group receives only what is sent while it is subscribed, unless it
 *   is declared in `durableGroups`, in which case `send` waits for it to subscribe. Without that,
 *   start consumers before relays. `fromBeginning` and `fromTimestamp` have nothing to replay
 *   and are ignored (replay in embedded mode comes from the producer's own database).
 * - Partition is always 0; offsets count per topic from 0 within this process.
 */
export function createInProcessTransport(options: InProcessTransportOptions = {}): EventTransport {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const groups = new Map<string, Group>();
  const nextOffset = new Map<string, number>();
  const subscriptions = new Set<Subscription>();
  let closed = false;

  const signalOf = (): Group['changed'] => {
    let notify!: () => void;
    const promise = new Promise<void>((resolve) => (notify = resolve));
    return { promise, notify };
  };
  const groupOf = (groupId: string): Group => {
    let group = groups.get(groupId);
    if (group === undefined) {
      group = {
        members: [],
        durableTopics: new Set(options.durableGroups?.[groupId] ?? []),
        changed: signalOf(),
        chains: new Map(),
        pending: new Map(),
      };
      groups.set(groupId, group);
    }
    return group;
  };
  for (const groupId of Object.keys(options.durableGroups ?? {})) groupOf(groupId);

  const handleOne = async (groupId: string, group: Group, message: ReceivedMessage): Promise<void> => {
    const pick = () => group.members.find((m) => m.active && m.topics.has(message.topic));
    let member = pick();
    while (member === undefined) {
      if (closed || !group.durableTopics.has(message.topic)) {
        throw new Error(`consumer group ${groupId} stopped before handling ${message.topic}@${message.offset}`);
      }
      await group.changed.promise; // a durable group: wait for a member to subscribe
      member = pick();
    }
    // Each group gets its own header object, so one handler's changes cannot leak into another's.
    const delivery = member.handler({ ...message, headers: { ...message.headers } });
    member.inFlight.add(delivery);
    try {
      await delivery;
    } finally {
      member.inFlight.delete(delivery);
    }
  };

  const reportLag = (group: Group, topic: string, change: number): void => {
    const messages = Math.max(0, (group.pending.get(topic) ?? 0) + change);
    group.pending.set(topic, messages);
    for (const member of group.members) {
      if (!member.active || !member.topics.has(topic)) continue;
      try {
        member.onLag?.({ topic, messages });
      } catch (error) {
        logger.warn({ err: error }, 'lag observer threw');
      }
    }
  };

  const enqueue = (groupId: string, group: Group, topic: string, messages: ReceivedMessage[]): Promise<void> => {
    const previous = group.chains.get(topic) ?? Promise.resolve();
    reportLag(group, topic, messages.length);
    const run = previous.then(async () => {
      // Stop at the first failure: later messages of the batch may share its key. The relay
      // sends the unhandled rest again, so it no longer counts as queued here.
      let handled = 0;
      try {
        for (const message of messages) {
          await handleOne(groupId, group, message);
          handled += 1;
          reportLag(group, topic, -1);
        }
      } finally {
        if (handled < messages.length) reportLag(group, topic, handled - messages.length);
      }
    });
    group.chains.set(
      topic,
      run.catch(() => undefined),
    );
    return run;
  };

  return {
    system: 'jamey_in_process',

    async ensureTopics() {
      // Topics exist implicitly on the in-process bus.
    },

    async send(topic, messages, signal) {
      if (closed) throw new Error('in-process transport is closed');
      signal?.throwIfAborted();
      if (messages.length === 0) return;
      const base = nextOffset.get(topic) ?? 0;
      nextOffset.set(topic, base + messages.length);
      const timestamp = clock.now();
      const received = messages.map<ReceivedMessage>((message, index) => ({
        topic,
        partition: 0,
        offset: String(base + index),
        key: message.key,
        value: message.value,
        headers: { ...message.headers },
        timestamp,
      }));
      const deliveries = [...groups.entries()]
        .filter(([, group]) => group.durableTopics.has(topic) || group.members.some((m) => m.active && m.topics.has(topic)))
        .map(([groupId, group]) => enqueue(groupId, group, topic, received));
      // An abort stops the wait only; consumers already handling the messages finish.
      const results = await raceAbort(Promise.allSettled(deliveries), signal);
      const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${errors.length} consumer groups failed on ${topic}`);
    },

    async subscribe({ groupId, topics, handler, fromTimestamp, onLag }) {
      if (closed) throw new Error('in-process transport is closed');
      if (fromTimestamp !== undefined) {
        logger.warn({ groupId, fromTimestamp }, 'the in-process bus keeps no history; fromTimestamp is ignored');
      }
      const group = groupOf(groupId);
      const member: Member = { topics: new Set(topics), handler, onLag, inFlight: new Set(), active: true };
      group.members.push(member);
      const { notify } = group.changed;
      group.changed = signalOf();
      notify();
      const subscription: Subscription = {
        async stop() {
          member.active = false;
          subscriptions.delete(subscription);
          const index = group.members.indexOf(member);
          if (index >= 0) group.members.splice(index, 1);
          await Promise.allSettled([...member.inFlight]);
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },

    // The bus lives in this process: it is up whenever the process is.
    async ping() {},

    async close() {
      closed = true;
      for (const group of groups.values()) group.changed.notify(); // durable waiters give up
      await Promise.all([...subscriptions].map((s) => s.stop()));
    },
  };
}
