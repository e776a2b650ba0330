import { createIdGenerator, createManualClock, createSeededRandom, type ManualClock } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { createSampleWindow, type Sample, type SampleWindow } from '../metrics/samples.js';
import type { Alert } from './alert.js';
import { createAlertEngine, type AlertChange, type AlertStore } from './engine.js';
import { validateAlertRules, type AlertRule } from './rules.js';

/** An in-memory store with the Postgres store's semantics (one row per fingerprint, optimistic updates). */
function createMemoryStore(): AlertStore & { rows: Map<string, Alert>; published: AlertChange[] } {
  const rows = new Map<string, Alert>();
  const published: AlertChange[] = [];
  return {
    rows,
    published,
    async active() {
      return [...rows.values()].filter((a) => a.state !== 'resolved');
    },
    async apply(changes) {
      const applied: AlertChange[] = [];
      for (const change of changes) {
        const row = rows.get(change.alert.fingerprint);
        const ok = change.expectedUpdatedAt === undefined ? row === undefined || row.state === 'resolved' : row?.updatedAt.getTime() === change.expectedUpdatedAt.getTime();
        if (!ok) continue;
        if (change.transition === 'dropped') rows.delete(change.alert.fingerprint);
        else rows.set(change.alert.fingerprint, change.alert);
        if (change.transition === 'fired' || change.transition === 'resolved') published.push(change);
        applied.push(change);
      }
      return applied;
    },
    async list(states, limit) {
      return [...rows.values()].filter((a) => states.includes(a.state)).slice(0, limit);
    },
  };
}

const rulesOf = (rules: object[]): readonly AlertRule[] =>
  validateAlertRules(
    { rules: rules.map((r) => ({ severity: 'critical', summary: '{{ $labels.service }} breaker to {{ $labels.dependency }} open', description: 'value {{ $value }}', ...r })) },
    'test',
  );

const breaker = (dependency: string, open: boolean): Sample[] =>
  ['closed', 'open'].map((state) => ({ name: 'jamey_circuit_breaker_state', labels: { dependency, state }, value: (state === 'open') === open ? 1 : 0 }));

function setup(rules: readonly AlertRule[]): { clock: ManualClock; window: SampleWindow; store: ReturnType<typeof createMemoryStore>; engine: ReturnType<typeof createAlertEngine> } {
  const clock = createManualClock();
  const window = createSampleWindow({ retentionMs: 3_600_000, staleAfterMs: 300_000 });
  const store = createMemoryStore();
  const engine = createAlertEngine({ rules, services: ['gateway', 'memory'], window, store, clock, ids: createIdGenerator(clock, createSeededRandom(7)) });
  return { clock, window, store, engine };
}

describe('alert lifecycle', () => {
  it('goes pending, fires after `for`, stays one alert per labels, and resolves', async () => {
    const { clock, window, store, engine } = setup(rulesOf([{ alert: 'BreakerOpen', kind: 'breaker_open', for: '1m' }]));
    const scrape = (open: boolean): void => window.record('gateway', clock.now(), [{ name: 'process_start_time_seconds', labels: {}, value: 1 }, ...breaker('memory', open), ...breaker('soul', false)]);

    scrape(false);
    expect(await engine.evaluateOnce()).toEqual([]);

    clock.advance(5000);
    scrape(true);
    let changes = await engine.evaluateOnce();
    expect(changes.map((c) => [c.transition, c.alert.state, c.alert.labels])).toEqual([['pending', 'pending', { service: 'gateway', dependency: 'memory' }]]);
    const pending = changes[0]!.alert;
    expect(pending.summary).toBe('gateway breaker to memory open');

    // Held for 59 s: still pending, nothing published.
    clock.advance(59_000);
    scrape(true);
    expect(await engine.evaluateOnce()).toEqual([]);
    expect(store.published).toEqual([]);

    clock.advance(1000);
    scrape(true);
    changes = await engine.evaluateOnce();
    expect(changes.map((c) => c.transition)).toEqual(['fired']);
    expect(changes[0]!.alert).toMatchObject({ id: pending.id, fingerprint: pending.fingerprint, state: 'firing', activeAt: pending.activeAt, firedAt: new Date(clock.now()) });

    // Still holding: no new alert, no new event (deduplicated by fingerprint).
    clock.advance(5000);
    scrape(true);
    expect(await engine.evaluateOnce()).toEqual([]);
    expect(store.rows.size).toBe(1);

    clock.advance(5000);
    scrape(false);
    changes = await engine.evaluateOnce();
    expect(changes.map((c) => [c.transition, c.alert.state])).toEqual([['resolved', 'resolved']]);
    expect(changes[0]!.alert.resolvedAt).toEqual(new Date(clock.now()));
    expect(store.published.map((c) => c.transition)).toEqual(['fired', 'resolved']);

    // Holding again is a new episode of the same alert: same fingerprint, new id, pending again.
    clock.advance(5000);
    scrape(true);
    changes = await engine.evaluateOnce();
    expect(changes.map((c) => c.transition)).toEqual(['pending']);
    expect(changes[0]!.alert.fingerprint).toBe(pending.fingerprint);
    expect(changes[0]!.alert.id).not.toBe(pending.id);
    expect(changes[0]!.alert.firedAt).toBeUndefined();
  });

  it('drops a pending alert whose condition stops before `for`, without publishing', async () => {
    const { clock, window, store, engine } = setup(rulesOf([{ alert: 'BreakerOpen', kind: 'breaker_open', for: '1m' }]));
    window.record('memory', clock.now(), breaker('postgres', true));
    expect((await engine.evaluateOnce()).map((c) => c.transition)).toEqual(['pending']);
    clock.advance(30_000);
    window.record('memory', clock.now(), breaker('postgres', false));
    expect((await engine.evaluateOnce()).map((c) => c.transition)).toEqual(['dropped']);
    expect(store.rows.size).toBe(0);
    expect(store.published).toEqual([]);
  });

  it('fires at once with `for: 0s`, and keeps the value and texts of a firing alert current', async () => {
    const { clock, window, engine } = setup(
      rulesOf([{ alert: 'DeadLetters', kind: 'dead_letter_growth', window: '10m', threshold: 0, for: '0s', summary: '{{ $value }} dead letters on {{ $labels.topic }}' }]),
    );
    const dlq = (n: number): Sample[] => [{ name: 'process_start_time_seconds', labels: {}, value: 1 }, ...(n > 0 ? [{ name: 'jamey_kafka_dead_letters_total', labels: { group: 'audit', topic: 'jamey.memory.events.v1', reason: 'unknown_type' }, value: n }] : [])];
    window.record('audit', clock.now(), dlq(0));
    expect(await engine.evaluateOnce()).toEqual([]);
    clock.advance(5000);
    window.record('audit', clock.now(), dlq(1));
    let changes = await engine.evaluateOnce();
    expect(changes.map((c) => [c.transition, c.alert.value, c.alert.summary, c.alert.labels])).toEqual([
      ['fired', 1, '1 dead letters on jamey.memory.events.v1', { service: 'audit', group: 'audit', topic: 'jamey.memory.events.v1' }],
    ]);
    clock.advance(5000);
    window.record('audit', clock.now(), dlq(3));
    changes = await engine.evaluateOnce();
    expect(changes.map((c) => [c.transition, c.alert.value, c.alert.summary])).toEqual([['updated', 3, '3 dead letters on jamey.memory.events.v1']]);
    // Ten quiet minutes later the window holds no growth: resolved.
    for (let i = 0; i < 121; i++) {
      clock.advance(5000);
      window.record('audit', clock.now(), dlq(3));
    }
    changes = await engine.evaluateOnce();
    expect(changes.map((c) => c.transition)).toEqual(['resolved']);
  });

  it('fires service_not_ready from a failed scrape, and resolves alerts of rules that left the file', async () => {
    const rules = rulesOf([{ alert: 'NotReady', kind: 'service_not_ready', for: '0s', summary: '{{ $labels.service }} is not ready' }]);
    const { clock, window, store } = setup(rules);
    const engine = createAlertEngine({ rules, services: ['gateway', 'memory'], window, store, clock, ids: createIdGenerator(clock, createSeededRandom(7)) });
    window.record('memory', clock.now(), [{ name: 'up', labels: {}, value: 0 }], 'target');
    window.record('gateway', clock.now(), [{ name: 'up', labels: {}, value: 1 }], 'target');
    const changes = await engine.evaluateOnce();
    expect(changes.map((c) => [c.transition, c.alert.summary])).toEqual([['fired', 'memory is not ready']]);

    const without = createAlertEngine({ rules: rulesOf([{ alert: 'Other', kind: 'breaker_open', for: '1m' }]), services: [], window, store, clock, ids: createIdGenerator(clock, createSeededRandom(7)) });
    clock.advance(1000);
    expect((await without.evaluateOnce()).map((c) => [c.transition, c.alert.rule])).toEqual([['resolved', 'NotReady']]);
  });

  it('counts only required readiness checks: an open optional breaker check degrades, a failing database check is not ready', async () => {
    const { clock, window, engine } = setup(rulesOf([{ alert: 'NotReady', kind: 'service_not_ready', for: '0s', summary: '{{ $labels.service }} is not ready' }]));
    const ready = (service: string, checks: Record<string, number>): void =>
      window.record(service, clock.now(), [{ name: 'process_start_time_seconds', labels: {}, value: 1 }, ...Object.entries(checks).map(([check, value]) => ({ name: 'jamey_readiness_check_up', labels: { check }, value }))]);
    ready('gateway', { memory: 0, soul: 1 });
    ready('memory', { database: 0, broker: 1 });
    expect((await engine.evaluateOnce()).map((c) => [c.transition, c.alert.labels])).toEqual([['fired', { service: 'memory' }]]);
  });

  it('applies nothing another replica changed first', async () => {
    const { clock, window, store, engine } = setup(rulesOf([{ alert: 'BreakerOpen', kind: 'breaker_open', for: '0s' }]));
    window.record('gateway', clock.now(), breaker('memory', true));
    await engine.evaluateOnce();
    // Another replica changes the row between this replica's read and its write.
    const read = store.active.bind(store);
    store.active = async () => {
      const active = await read();
      const row = active[0]!;
      store.rows.set(row.fingerprint, { ...row, updatedAt: new Date(clock.now() + 1) });
      return active;
    };
    clock.advance(1000);
    window.record('gateway', clock.now(), breaker('memory', false));
    expect(await engine.evaluateOnce()).toEqual([]);
    expect(store.published.map((c) => c.transition)).toEqual(['fired']);
  });
});
