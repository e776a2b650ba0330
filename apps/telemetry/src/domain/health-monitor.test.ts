import { createManualClock } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { createHealthMonitor, type HealthHistory } from './health-monitor.js';
import { aggregateStatus, reportedStatus, type HealthCheckRecord, type HealthProbe, type HealthTarget } from './health.js';

/** An in-memory history with the same semantics as the Postgres one. */
function createMemoryHistory(): HealthHistory & { rows: HealthCheckRecord[] } {
  const rows: HealthCheckRecord[] = [];
  return {
    rows,
    async record(records, pruneBefore) {
      rows.push(...records);
      for (let i = rows.length - 1; i >= 0; i--) if (rows[i]!.checkedAt < pruneBefore) rows.splice(i, 1);
    },
    async latest() {
      const latest = new Map<string, HealthCheckRecord>();
      for (const row of rows) {
        const seen = latest.get(row.service);
        if (!seen || seen.checkedAt <= row.checkedAt) latest.set(row.service, row);
      }
      return [...latest.values()];
    },
  };
}

const fixed = (status: HealthCheckRecord['status'], detail?: string): HealthProbe => async () => ({ status, detail });
const target = (service: string, probe: HealthProbe): HealthTarget => ({ service, target: `${service}:1`, probe });

describe('status rules', () => {
  it('maps check results to reported statuses', () => {
    expect(reportedStatus('SERVING')).toBe('SERVING');
    expect(reportedStatus('NOT_SERVING')).toBe('DEGRADED');
    expect(reportedStatus('SERVICE_UNKNOWN')).toBe('DEGRADED');
    expect(reportedStatus('UNKNOWN')).toBe('DEGRADED');
    expect(reportedStatus('UNREACHABLE')).toBe('DOWN');
  });

  it('aggregates: all serving, none serving, some serving, some not checked yet', () => {
    const at = new Date(0);
    expect(aggregateStatus([{ status: 'SERVING', checkedAt: at }, { status: 'SERVING', checkedAt: at }])).toBe('SERVING');
    expect(aggregateStatus([{ status: 'DOWN', checkedAt: at }, { status: 'DEGRADED', checkedAt: at }])).toBe('DOWN');
    expect(aggregateStatus([{ status: 'SERVING', checkedAt: at }, { status: 'DOWN', checkedAt: at }])).toBe('DEGRADED');
    expect(aggregateStatus([{ status: 'DOWN', checkedAt: at }, { status: 'DEGRADED', checkedAt: undefined }])).toBe('DEGRADED');
    expect(aggregateStatus([{ status: 'DEGRADED', checkedAt: undefined }])).toBe('DEGRADED');
    expect(aggregateStatus([])).toBe('SERVING');
  });
});

describe('createHealthMonitor', () => {
  it('reports services never checked as DEGRADED "not checked yet", and itself as SERVING', async () => {
    const clock = createManualClock();
    const monitor = createHealthMonitor({
      targets: [target('memory', fixed('SERVING'))],
      history: createMemoryHistory(),
      clock,
      self: () => ({ service: 'telemetry', target: 'self:1' }),
    });
    const health = await monitor.systemHealth();
    expect(health.status).toBe('DEGRADED');
    expect(health.services).toEqual([
      { service: 'memory', target: 'memory:1', status: 'DEGRADED', detail: 'not checked yet', latencyMs: 0, checkedAt: undefined },
      { service: 'telemetry', target: 'self:1', status: 'SERVING', detail: '', latencyMs: 0, checkedAt: new Date(clock.now()) },
    ]);
  });

  it('polls every target in parallel and reports the latest result per service', async () => {
    const clock = createManualClock();
    const history = createMemoryHistory();
    let soul: HealthProbe = fixed('NOT_SERVING');
    let inFlight = 0;
    let maxInFlight = 0;
    const counting =
      (probe: () => HealthProbe): HealthProbe =>
      async (signal) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await Promise.resolve();
        inFlight--;
        return probe()(signal);
      };
    const monitor = createHealthMonitor({
      targets: [target('memory', counting(() => fixed('SERVING'))), target('soul', counting(() => soul)), target('audit', fixed('UNREACHABLE', 'connection refused'))],
      history,
      clock,
    });
    const round = await monitor.pollOnce();
    expect(maxInFlight).toBe(2);
    expect(round.map((r) => [r.service, r.status, r.detail])).toEqual([
      ['memory', 'SERVING', ''],
      ['soul', 'NOT_SERVING', 'not serving'],
      ['audit', 'UNREACHABLE', 'connection refused'],
    ]);
    let health = await monitor.systemHealth();
    expect(health.status).toBe('DEGRADED');
    expect(health.services.map((s) => s.status)).toEqual(['SERVING', 'DEGRADED', 'DOWN']);

    clock.advance(1000);
    soul = fixed('SERVING');
    await monitor.pollOnce();
    health = await monitor.systemHealth();
    expect(history.rows).toHaveLength(6);
    expect(health.services[1]).toMatchObject({ service: 'soul', status: 'SERVING', checkedAt: new Date(clock.now()) });
  });

  it('turns a probe that hangs past the timeout into UNREACHABLE "timed out"', async () => {
    const monitor = createHealthMonitor({
      targets: [target('memory', () => new Promise(() => undefined))],
      history: createMemoryHistory(),
      clock: createManualClock(),
      checkTimeoutMs: 20,
    });
    const [record] = await monitor.pollOnce();
    expect(record).toMatchObject({ status: 'UNREACHABLE', detail: 'timed out after 20 ms' });
  });

  it('turns a probe that throws into UNREACHABLE with its message', async () => {
    const monitor = createHealthMonitor({
      targets: [
        target('memory', async () => {
          throw new Error('boom');
        }),
      ],
      history: createMemoryHistory(),
      clock: createManualClock(),
    });
    expect((await monitor.pollOnce())[0]).toMatchObject({ status: 'UNREACHABLE', detail: 'boom' });
  });

  it('prunes history older than the retention each round', async () => {
    const clock = createManualClock();
    const history = createMemoryHistory();
    const monitor = createHealthMonitor({ targets: [target('memory', fixed('SERVING'))], history, clock, retentionMs: 10_000 });
    await monitor.pollOnce();
    clock.advance(10_000);
    await monitor.pollOnce();
    expect(history.rows).toHaveLength(2);
    clock.advance(1);
    await monitor.pollOnce();
    expect(history.rows.map((r) => r.checkedAt.getTime() - Date.UTC(2026, 0, 1))).toEqual([10_000, 10_001]);
  });

  it('stores nothing and rejects when the round is aborted', async () => {
    const history = createMemoryHistory();
    const controller = new AbortController();
    let started!: () => void;
    const probing = new Promise<void>((resolve) => (started = resolve));
    const monitor = createHealthMonitor({
      targets: [
        target('memory', (signal) => {
          started();
          return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
        }),
      ],
      history,
      clock: createManualClock(),
    });
    const round = monitor.pollOnce(controller.signal);
    await probing;
    controller.abort(new Error('stopping'));
    await expect(round).rejects.toThrow('stopping');
    expect(history.rows).toHaveLength(0);
  });
});
