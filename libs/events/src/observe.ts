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
  | { kind: 'duplicate'; groupId: string; topic: string; type: string; eventId: string; durationMs?: number }
  | { kind: 'handler_failed'; groupId: string; topic: string; type: string; eventId: string; attempt: number; error: unknown }
  /** Every attempt failed for want of a dependency: left uncommitted, to be delivered again. */
  | { kind: 'failed'; groupId: string; topic: string; type: string; eventId: string; error: unknown; durationMs?: number }
  | { kind: 'dead_lettered'; groupId: string; topic: string; reason: DeadLetterReason; eventId?: string; durationMs?: number }
  /** The group's consumer lag on a topic changed (messages not handled yet; see `SubscribeOptions.onLag`). */
  | { kind: 'lag'; groupId: string; topic: string; messages: number };

/** Receives {@link EventsObservation}s. */
export type EventsObserver = (observation: EventsObservation) => void;

/** One observer that tells each of `observers` (skipping undefined ones), in order. */
export function combineObservers(...observers: readonly (EventsObserver | undefined)[]): EventsObserver {
  const present = observers.filter((o): o is EventsObserver => o !== undefined);
  return (observation) => {
    for (const observer of present) observer(observation);
  };
}
