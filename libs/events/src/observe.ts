import type { EventDecodeReason } from './catalog.js';

/** Why a message went to a dead-letter topic (`x-dlq-reason`). */
export type DeadLetterReason = EventDecodeReason | 'handler_failed';

/**
 * What the relay and consumers report, for adapters to turn into metrics and spans.
 * Observers must not throw; an observer error is logged and ignored.
 */
export type EventsObservation =
  | { kind: 'published'; topic: string; count: number }
  | { kind: 'publish_failed'; attempt: number; error: unknown }
  | { kind: 'consumed'; groupId: string; topic: string; type: string; eventId: string; durationMs: number }
  | { kind: 'duplicate'; groupId: string; topic: string; type: string; eventId: string }
  | { kind: 'handler_failed'; groupId: string; topic: string; type: string; eventId: string; attempt: number; error: unknown }
  | { kind: 'dead_lettered'; groupId: string; topic: string; reason: DeadLetterReason; eventId?: string };

/** Receives {@link EventsObservation}s. */
export type EventsObserver = (observation: EventsObservation) => void;
