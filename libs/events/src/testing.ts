/**
 * Test helpers for `@jamey/events` users (`@jamey/events/testing`).
 */
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
    ensureTopics: (topics, signal) => inner.ensureTopics(topics.map(wire), signal),
    send: (topic, messages, signal) => inner.send(wire(topic), messages, signal),
    subscribe: (options) =>
      inner.subscribe({
        ...options,
        topics: options.topics.map(wire),
        handler: (message: ReceivedMessage) => options.handler({ ...message, topic: local(message.topic) }),
      }),
    close: () => inner.close(),
  };
}
