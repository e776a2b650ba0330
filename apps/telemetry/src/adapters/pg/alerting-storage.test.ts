import { createIdGenerator, createManualClock, createSeededRandom } from '@jamey/core';
import { migrate, openDatabase, type Database } from '@jamey/data';
import { describeOnEachDatabase, type TestDatabase } from '@jamey/data/testing';
import { createOutbox, decodeEnvelope, decodeEventData, eventsMigrationsDir, eventsMigrationsTable } from '@jamey/events';
import { telemetry as pb } from '@jamey/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Alert } from '../../domain/alerts/alert.js';
import type { AlertChange } from '../../domain/alerts/engine.js';
import { telemetryMigrationsDir } from '../../migrations.js';
import { createPgAlertStore } from './alert-store.js';
import { createPgLease } from './lease.js';
import { createPgMetricHistory } from './metric-history.js';

const t0 = Date.UTC(2026, 0, 1);
const alert = (over: Partial<Alert> = {}): Alert => ({
  id: '0190a000-0000-7000-8000-000000000001',
  fingerprint: 'f1',
  rule: 'JameyCircuitBreakerOpen',
  severity: 'critical',
  state: 'pending',
  labels: { service: 'gateway', dependency: 'memory' },
  value: 1,
  summary: 'gateway stopped calling memory',
  description: 'd',
  activeAt: new Date(t0),
  firedAt: undefined,
  resolvedAt: undefined,
  updatedAt: new Date(t0),
  ...over,
});

describeOnEachDatabase('telemetry alerting storage', 'TELEMETRY_DATABASE_URL', (createDatabase) => {
  let test: TestDatabase;
  let db: Database;
  const clock = createManualClock(t0);

  beforeAll(async () => {
    test = await createDatabase();
    db = await openDatabase({ url: test.url, poolSize: 2 });
    await migrate(db, { dir: eventsMigrationsDir, table: eventsMigrationsTable });
    await migrate(db, { dir: telemetryMigrationsDir, table: 'telemetry_migrations' });
  });
  afterAll(async () => {
    await db?.close();
    await test?.cleanup();
  });

  const outboxEvents = async () => {
    const { rows } = await db.query<{ topic: string; key: string; envelope: Buffer }>('SELECT topic, key, envelope FROM outbox ORDER BY seq');
    return rows.map((row) => ({ topic: row.topic, key: row.key, event: decodeEventData(decodeEnvelope(row.envelope)) }));
  };

  it('keeps one row per fingerprint, and writes each fired and resolved alert to the outbox and the webhook queue in the same transaction', async () => {
    let wakes = 0;
    const store = createPgAlertStore(db, { outbox: createOutbox({ source: 'telemetry', clock, ids: createIdGenerator(clock, createSeededRandom(1)) }), webhook: true, onCommitted: () => wakes++ });
    const pending = alert();
    expect(await store.apply([{ alert: pending, transition: 'pending', expectedUpdatedAt: undefined }])).toHaveLength(1);
    expect(await store.active()).toEqual([pending]);
    expect(wakes).toBe(0);

    const firing = alert({ state: 'firing', firedAt: new Date(t0 + 60_000), updatedAt: new Date(t0 + 60_000), value: NaN });
    // A change computed from an older row does not apply.
    expect(await store.apply([{ alert: firing, transition: 'fired', expectedUpdatedAt: new Date(t0 - 1) }])).toEqual([]);
    expect(await store.apply([{ alert: firing, transition: 'fired', expectedUpdatedAt: pending.updatedAt }])).toHaveLength(1);
    expect(wakes).toBe(1);
    const [stored] = await store.active();
    expect(stored).toMatchObject({ state: 'firing', firedAt: firing.firedAt });
    expect(stored!.value).toBeNaN();
    // A second "new" alert for the same fingerprint while it fires is refused: no duplicate.
    expect(await store.apply([{ alert: alert({ id: '0190a000-0000-7000-8000-000000000009' }), transition: 'pending', expectedUpdatedAt: undefined }])).toEqual([]);

    const resolved = alert({ ...firing, value: 0, state: 'resolved', resolvedAt: new Date(t0 + 120_000), updatedAt: new Date(t0 + 120_000) });
    await store.apply([{ alert: resolved, transition: 'resolved', expectedUpdatedAt: firing.updatedAt }]);
    expect(await store.active()).toEqual([]);
    expect((await store.list(['resolved'], 10)).map((a) => a.fingerprint)).toEqual(['f1']);
    await store.prune(new Date(t0 + 120_000));
    expect(await store.list(['resolved'], 10)).toHaveLength(1); // resolved at the cutoff: kept

    const events = await outboxEvents();
    expect(events.map((e) => [e.topic, e.key, e.event.type])).toEqual([
      ['jamey.telemetry.events.v1', 'f1', 'telemetry.alert_fired'],
      ['jamey.telemetry.events.v1', 'f1', 'telemetry.alert_resolved'],
    ]);
    const fired = events[0]!.event;
    if (fired.type !== 'telemetry.alert_fired') throw new Error('unexpected');
    expect(fired.data.alert).toMatchObject({ fingerprint: 'f1', rule: 'JameyCircuitBreakerOpen', state: pb.AlertState.ALERT_STATE_FIRING, severity: pb.AlertSeverity.ALERT_SEVERITY_CRITICAL, labels: { service: 'gateway', dependency: 'memory' } });

    const { rows } = await db.query<{ transition: string; payload: { status: string; alerts: { labels: Record<string, string> }[] } }>('SELECT transition, payload FROM alert_notifications ORDER BY id');
    expect(rows.map((r) => [r.transition, r.payload.status, r.payload.alerts[0]!.labels['alertname']])).toEqual([
      ['fired', 'firing', 'JameyCircuitBreakerOpen'],
      ['resolved', 'resolved', 'JameyCircuitBreakerOpen'],
    ]);

    // Holding again reuses the row as a new episode; resolved history is pruned by age.
    const again = alert({ id: '0190a000-0000-7000-8000-000000000002', activeAt: new Date(t0 + 200_000), updatedAt: new Date(t0 + 200_000) });
    expect(await store.apply([{ alert: again, transition: 'pending', expectedUpdatedAt: undefined }])).toHaveLength(1);
    expect((await store.active()).map((a) => a.id)).toEqual([again.id]);
    const drop: AlertChange = { alert: again, transition: 'dropped', expectedUpdatedAt: again.updatedAt };
    expect(await store.apply([drop])).toHaveLength(1);
    expect(await store.list(['pending', 'firing', 'resolved'], 10)).toEqual([]);

    // Given-up webhook notifications go with the history.
    await db.query('UPDATE alert_notifications SET gave_up_at = $1', [new Date(t0).toISOString()]);
    await store.prune(new Date(t0 + 1));
    expect((await db.query('SELECT id FROM alert_notifications')).rows).toEqual([]);
  });

  it('rejects a state the domain does not know, rolling back the whole round', async () => {
    const store = createPgAlertStore(db, { outbox: createOutbox({ source: 'telemetry', clock, ids: createIdGenerator(clock, createSeededRandom(2)) }), webhook: false });
    const good = alert({ fingerprint: 'ok' });
    const bad = alert({ fingerprint: 'bad', state: 'exploded' as Alert['state'] });
    await expect(store.apply([{ alert: good, transition: 'pending', expectedUpdatedAt: undefined }, { alert: bad, transition: 'pending', expectedUpdatedAt: undefined }])).rejects.toMatchObject({ code: '23514' });
    expect(await store.active()).toEqual([]);
  });

  it('stores history per service, metric and interval, overwrites within an interval, queries by range and prunes', async () => {
    const history = createPgMetricHistory(db);
    const at = (ms: number) => new Date(t0 + ms);
    await history.record(
      [
        { service: 'memory', metric: 'request_rate', at: at(0), value: 1 },
        { service: 'memory', metric: 'error_rate', at: at(0), value: 0.5 },
        { service: 'consciousness', metric: 'phi', at: at(0), value: 0.42 },
      ],
      new Date(0),
    );
    await history.record([{ service: 'memory', metric: 'request_rate', at: at(0), value: 2 }, { service: 'memory', metric: 'request_rate', at: at(60_000), value: 3 }], new Date(0));
    expect(await history.query({ since: at(0), until: at(120_000), services: ['memory'], metrics: ['request_rate'] })).toEqual([
      { service: 'memory', metric: 'request_rate', at: at(0), value: 2 },
      { service: 'memory', metric: 'request_rate', at: at(60_000), value: 3 },
    ]);
    expect((await history.query({ since: at(0), until: at(60_000) })).map((p) => `${p.service}/${p.metric}`)).toEqual(['consciousness/phi', 'memory/error_rate', 'memory/request_rate']);
    await history.record([], at(60_000));
    expect(await history.query({ since: at(0), until: at(120_000) })).toEqual([{ service: 'memory', metric: 'request_rate', at: at(60_000), value: 3 }]);
  });

  it('gives the alerting lease to one holder at a time, and to another once it expires', async () => {
    const a = createPgLease(db, 'alerting-test', 'replica-a', 10_000);
    const b = createPgLease(db, 'alerting-test', 'replica-b', 10_000);
    expect(await a.acquire(t0)).toBe(true);
    expect(await b.acquire(t0 + 1000)).toBe(false);
    expect(await a.acquire(t0 + 5000)).toBe(true); // renewed until t0 + 15 s
    expect(await b.acquire(t0 + 14_999)).toBe(false);
    expect(await b.acquire(t0 + 15_000)).toBe(true);
    expect(await a.acquire(t0 + 16_000)).toBe(false);
  });
});
