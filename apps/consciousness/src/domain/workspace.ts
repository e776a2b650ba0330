/**
 * The global workspace (Global Workspace Theory): a small window of recent perceptions that
 * compete for one focus. Everything here is pure; state changes only by applying
 * {@link WorkspaceEvent}s, which is what makes the workspace event-sourced.
 *
 * ## The rule
 * - The workspace holds the {@link WORKSPACE_CAPACITY} (7) most recent perceptions.
 * - The focus is the perception with the highest salience among them; a tie goes to the most
 *   recent one.
 * - When the focus falls out of the window, the focus moves to the best remaining perception.
 * - The focus changed when its id changed.
 */

/** How many recent perceptions the workspace holds ("seven, plus or minus two"). */
export const WORKSPACE_CAPACITY = 7;

/** One perception, as recorded in the event store. */
export interface Perception {
  /** UUIDv7. */
  readonly id: string;
  readonly input: string;
  readonly source: string;
  /** 0..1. */
  readonly salience: number;
  /** The soul entity it came from, when named. */
  readonly entityId?: string | undefined;
  readonly perceivedAt: Date;
}

/** The state of one workspace stream, folded from its events. */
export interface WorkspaceState {
  /** The most salient recent perception; undefined before the first perception. */
  readonly focus: Perception | undefined;
  /** The recent perceptions, newest first, at most {@link WORKSPACE_CAPACITY}. */
  readonly recent: readonly Perception[];
  /** Number of events applied (the stream version). */
  readonly version: number;
  readonly perceptionCount: number;
  /** When the last applied event occurred; undefined for the empty workspace. */
  readonly updatedAt: Date | undefined;
}

/** The workspace before anything was perceived. */
export const EMPTY_WORKSPACE: WorkspaceState = Object.freeze({
  focus: undefined,
  recent: Object.freeze([]) as readonly Perception[],
  version: 0,
  perceptionCount: 0,
  updatedAt: undefined,
});

/** A perception entered the workspace. */
export interface PerceptionReceived {
  readonly type: 'PerceptionReceived';
  readonly perception: Perception;
}

/** The focus moved from `previousId` (undefined when there was none) to `focus`. */
export interface FocusShifted {
  readonly type: 'FocusShifted';
  readonly previousId: string | undefined;
  readonly focus: Perception;
}

/** The domain events of a workspace stream. */
export type WorkspaceEvent = PerceptionReceived | FocusShifted;

/** An event together with the time it was recorded, as read back from the store. */
export interface RecordedEvent {
  readonly event: WorkspaceEvent;
  readonly occurredAt: Date;
}

/**
 * The focus among `recent` (newest first): the highest salience, ties broken by recency.
 * Undefined when `recent` is empty.
 */
export function selectFocus(recent: readonly Perception[]): Perception | undefined {
  let best: Perception | undefined;
  // `recent` is newest first, so a strict `>` keeps the newest of equally salient perceptions.
  for (const perception of recent) {
    if (best === undefined || perception.salience > best.salience) best = perception;
  }
  return best;
}

/** What {@link perceive} decided. */
export interface PerceiveDecision {
  /** The events to append, in order: `PerceptionReceived`, then `FocusShifted` when the focus changed. */
  readonly events: readonly WorkspaceEvent[];
  /** The state after the events. */
  readonly state: WorkspaceState;
  readonly focusChanged: boolean;
  /** The focus before the perception; undefined when there was none. */
  readonly previousFocus: Perception | undefined;
}

/**
 * Decides what happens when `perception` arrives in `state` at `occurredAt`: it always enters
 * the window; the focus is recomputed by the rule in this module's documentation.
 */
export function perceive(state: WorkspaceState, perception: Perception, occurredAt: Date): PerceiveDecision {
  const received: PerceptionReceived = { type: 'PerceptionReceived', perception };
  const afterReceived = applyEvent(state, received, occurredAt);
  const focus = selectFocus(afterReceived.recent);
  const previousFocus = state.focus;
  // The window is never empty after a perception arrived, so `focus` is defined here.
  if (focus === undefined || focus.id === previousFocus?.id) {
    return { events: [received], state: afterReceived, focusChanged: false, previousFocus };
  }
  const shifted: FocusShifted = { type: 'FocusShifted', previousId: previousFocus?.id, focus };
  return {
    events: [received, shifted],
    state: applyEvent(afterReceived, shifted, occurredAt),
    focusChanged: true,
    previousFocus,
  };
}

/** Applies one event. Pure: returns a new state. */
export function applyEvent(state: WorkspaceState, event: WorkspaceEvent, occurredAt: Date): WorkspaceState {
  const base = { version: state.version + 1, updatedAt: occurredAt };
  switch (event.type) {
    case 'PerceptionReceived':
      return {
        ...state,
        ...base,
        recent: [event.perception, ...state.recent].slice(0, WORKSPACE_CAPACITY),
        perceptionCount: state.perceptionCount + 1,
      };
    case 'FocusShifted':
      return { ...state, ...base, focus: event.focus };
  }
}

/** Folds recorded events, oldest first, onto `state` (default: the empty workspace). */
export function replay(events: Iterable<RecordedEvent>, state: WorkspaceState = EMPTY_WORKSPACE): WorkspaceState {
  let current = state;
  for (const { event, occurredAt } of events) current = applyEvent(current, event, occurredAt);
  return current;
}
