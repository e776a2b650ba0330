import { describe, expect, it } from 'vitest';
import { eventFromStored, eventToStored, stateFromJson, stateToJson } from './serialization.js';
import {
  EMPTY_WORKSPACE,
  WORKSPACE_CAPACITY,
  perceive,
  replay,
  selectFocus,
  type Perception,
  type RecordedEvent,
  type WorkspaceState,
} from './workspace.js';

const T0 = Date.UTC(2026, 0, 1);

function perception(id: string, salience: number, at = 0): Perception {
  return { id, input: `input ${id}`, source: 'test', salience, perceivedAt: new Date(T0 + at) };
}

/** Perceives each salience in turn (ids p1, p2, …) and returns every decision and the recorded events. */
function run(saliences: readonly number[], start: WorkspaceState = EMPTY_WORKSPACE) {
  let state = start;
  const recorded: RecordedEvent[] = [];
  const decisions = saliences.map((salience, index) => {
    const occurredAt = new Date(T0 + (state.version + index) * 1000);
    const decision = perceive(state, perception(`p${state.perceptionCount + 1}`, salience, index), occurredAt);
    recorded.push(...decision.events.map((event) => ({ event, occurredAt })));
    state = decision.state;
    return decision;
  });
  return { state, decisions, recorded };
}

describe('selectFocus', () => {
  it('is undefined for an empty window', () => {
    expect(selectFocus([])).toBeUndefined();
  });

  it('picks the highest salience', () => {
    expect(selectFocus([perception('a', 0.2), perception('b', 0.9), perception('c', 0.5)])?.id).toBe('b');
  });

  it('breaks ties by recency (the window is newest first)', () => {
    expect(selectFocus([perception('newest', 0.7), perception('older', 0.7), perception('oldest', 0.7)])?.id).toBe('newest');
  });
});

describe('perceive', () => {
  it('focuses the first perception and reports the change', () => {
    const decision = perceive(EMPTY_WORKSPACE, perception('p1', 0.1), new Date(T0));
    expect(decision.focusChanged).toBe(true);
    expect(decision.previousFocus).toBeUndefined();
    expect(decision.state.focus?.id).toBe('p1');
    expect(decision.events.map((event) => event.type)).toEqual(['PerceptionReceived', 'FocusShifted']);
    expect(decision.state).toMatchObject({ version: 2, perceptionCount: 1, updatedAt: new Date(T0) });
  });

  it('moves the focus to a more salient perception and keeps it against a less salient one', () => {
    const { decisions } = run([0.5, 0.9, 0.3]);
    expect(decisions.map((d) => [d.state.focus?.id, d.focusChanged])).toEqual([
      ['p1', true],
      ['p2', true],
      ['p2', false],
    ]);
    expect(decisions[2]?.events.map((event) => event.type)).toEqual(['PerceptionReceived']);
    expect(decisions[1]?.previousFocus?.id).toBe('p1');
  });

  it('gives an equally salient newer perception the focus (ties go to recency)', () => {
    const { decisions } = run([0.6, 0.6]);
    expect(decisions[1]?.state.focus?.id).toBe('p2');
    expect(decisions[1]?.focusChanged).toBe(true);
  });

  it(`holds only the ${WORKSPACE_CAPACITY} most recent perceptions, newest first`, () => {
    const { state } = run([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(WORKSPACE_CAPACITY).toBe(7);
    expect(state.recent.map((p) => p.id)).toEqual(['p9', 'p8', 'p7', 'p6', 'p5', 'p4', 'p3']);
    expect(state.perceptionCount).toBe(9);
  });

  it('moves the focus to the best remaining perception when the focus falls out of the window', () => {
    // p1 is the most salient; six weaker ones keep it in the window, the eighth pushes it out.
    const { decisions } = run([1, 0.2, 0.5, 0.3, 0.5, 0.1, 0.4, 0.05]);
    expect(decisions[6]?.state.focus?.id).toBe('p1');
    const evicting = decisions[7];
    expect(evicting?.state.recent.some((p) => p.id === 'p1')).toBe(false);
    // p3 and p5 tie at 0.5; p5 is more recent.
    expect(evicting?.state.focus?.id).toBe('p5');
    expect(evicting?.focusChanged).toBe(true);
    expect(evicting?.previousFocus?.id).toBe('p1');
  });

  it('never leaves the focus outside the window', () => {
    const saliences = Array.from({ length: 60 }, (_, i) => ((i * 37) % 11) / 10);
    let state = EMPTY_WORKSPACE;
    for (const [index, salience] of saliences.entries()) {
      state = perceive(state, perception(`q${index}`, salience), new Date(T0 + index)).state;
      expect(state.recent.map((p) => p.id)).toContain(state.focus?.id);
      expect(state.focus).toBe(selectFocus(state.recent));
    }
  });
});

describe('replay', () => {
  it('rebuilds the same state from the recorded events', () => {
    const { state, recorded } = run([0.3, 0.9, 0.1, 0.9, 0.2, 0.4, 0.6, 0.8, 0.7, 0.5]);
    expect(replay(recorded)).toEqual(state);
  });

  it('continues from a snapshot', () => {
    const { recorded, state } = run([0.3, 0.9, 0.1, 0.9, 0.2, 0.4, 0.6, 0.8, 0.7, 0.5]);
    const snapshot = replay(recorded.slice(0, 7));
    expect(replay(recorded.slice(7), snapshot)).toEqual(state);
  });
});

describe('serialization', () => {
  it('round-trips events and states through JSON', () => {
    const { state, recorded } = run([0.3, 0.9, 0.1]);
    const withEntity = perceive(state, { ...perception('e', 1), entityId: 'user:42' }, new Date(T0 + 9000));
    for (const { event } of [...recorded, ...withEntity.events.map((event) => ({ event }))]) {
      const stored = JSON.parse(JSON.stringify(eventToStored(event))) as ReturnType<typeof eventToStored>;
      expect(eventFromStored(stored.type, stored.data)).toEqual(event);
    }
    expect(stateFromJson(JSON.parse(JSON.stringify(stateToJson(withEntity.state))))).toEqual(withEntity.state);
    expect(stateFromJson(stateToJson(EMPTY_WORKSPACE))).toEqual(EMPTY_WORKSPACE);
  });

  it('rejects unknown event types and malformed payloads', () => {
    expect(() => eventFromStored('Unknown', {})).toThrow(/unknown event type/);
    expect(() => eventFromStored('PerceptionReceived', { perception: { id: 1 } })).toThrow(/not a stored perception/);
  });
});
