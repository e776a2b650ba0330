import type { Clock } from '@jamey/core';
import {
  aggregateStatus,
  NOT_CHECKED_DETAIL,
  reportedStatus,
  type HealthCheckRecord,
  type HealthTarget,
  type ProbeResult,
  type ServiceHealth,
  type SystemHealth,
} from './health.js';

/** Where check results are kept. Implemented by the Postgres adapter. */
export interface HealthHistory {
  /** Stores one round's results and deletes every row checked before `pruneBefore`, atomically. */
  record(records: readonly HealthCheckRecord[], pruneBefore: Date, signal?: AbortSignal): Promise<void>;
  /** The newest result of every service that has one. */
  latest(signal?: AbortSignal): Promise<HealthCheckRecord[]>;
}

/** Dependencies of {@link createHealthMonitor}. */
export interface HealthMonitorDeps {
  /** The services to poll, in report order. */
  readonly targets: readonly HealthTarget[];
  readonly history: HealthHistory;
  readonly clock: Clock;
  /** Budget of one check in milliseconds. Default 2000. */
  readonly checkTimeoutMs?: number;
  /** Rows older than this many milliseconds are pruned each round. Default 7 days. */
  readonly retentionMs?: number;
  /**
   * The monitor's own service, reported SERVING in every answer (it is answering, after all).
   * It is not part of the aggregate, which would otherwise never be DOWN. Read lazily because
   * the bound port is known only after listening.
   */
  readonly self?: () => { service: string; target: string };
}

/** Defaults of {@link HealthMonitorDeps}. */
export const HEALTH_MONITOR_DEFAULTS = Object.freeze({
  checkTimeoutMs: 2000,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
});

/** Polls every service's health, keeps the history and answers with the latest picture. */
export interface HealthMonitor {
  /**
   * Checks every target in parallel, each bounded by the check timeout, stores the results
   * and prunes old history. Rejects with the signal's reason, storing nothing, when `signal`
   * aborts (shutdown).
   */
  pollOnce(signal?: AbortSignal): Promise<readonly HealthCheckRecord[]>;
  /** The latest result per service and the aggregate. */
  systemHealth(signal?: AbortSignal): Promise<SystemHealth>;
}

/** Creates a {@link HealthMonitor}. */
export function createHealthMonitor(deps: HealthMonitorDeps): HealthMonitor {
  const { targets, history, clock } = deps;
  const checkTimeoutMs = deps.checkTimeoutMs ?? HEALTH_MONITOR_DEFAULTS.checkTimeoutMs;
  const retentionMs = deps.retentionMs ?? HEALTH_MONITOR_DEFAULTS.retentionMs;

  async function check(target: HealthTarget, signal: AbortSignal | undefined): Promise<HealthCheckRecord> {
    const timeout = AbortSignal.timeout(checkTimeoutMs);
    const checkSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const started = clock.now();
    let result: ProbeResult;
    try {
      result = await untilAborted(target.probe(checkSignal), checkSignal, checkTimeoutMs);
    } catch (error) {
      result = { status: 'UNREACHABLE', detail: error instanceof Error ? error.message : String(error) };
    }
    signal?.throwIfAborted();
    return {
      service: target.service,
      target: target.target,
      status: result.status,
      detail: result.status === 'SERVING' ? '' : (result.detail ?? result.status.toLowerCase().replaceAll('_', ' ')),
      latencyMs: Math.max(0, clock.now() - started),
      checkedAt: new Date(clock.now()),
    };
  }

  return {
    async pollOnce(signal) {
      signal?.throwIfAborted();
      const records = await Promise.all(targets.map((target) => check(target, signal)));
      signal?.throwIfAborted();
      await history.record(records, new Date(clock.now() - retentionMs), signal);
      return records;
    },

    async systemHealth(signal) {
      const latest = new Map((await history.latest(signal)).map((record) => [record.service, record]));
      const polled: ServiceHealth[] = targets.map((target) => {
        const record = latest.get(target.service);
        if (!record) {
          return { service: target.service, target: target.target, status: 'DEGRADED', detail: NOT_CHECKED_DETAIL, latencyMs: 0, checkedAt: undefined };
        }
        return { ...record, status: reportedStatus(record.status) };
      });
      const now = new Date(clock.now());
      const self = deps.self?.();
      const services = self ? [...polled, { ...self, status: 'SERVING' as const, detail: '', latencyMs: 0, checkedAt: now }] : polled;
      return { status: aggregateStatus(polled), services, checkedAt: now };
    },
  };
}

/**
 * Settles like `probe`, or rejects once `signal` aborts: a probe that ignores its signal must
 * not hold the round past its timeout. A timeout reads as "timed out after N ms".
 */
function untilAborted(probe: Promise<ProbeResult>, signal: AbortSignal, timeoutMs: number): Promise<ProbeResult> {
  const reason = (): Error =>
    signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError'
      ? new Error(`timed out after ${timeoutMs} ms`)
      : (signal.reason as Error);
  if (signal.aborted) {
    probe.catch(() => undefined);
    return Promise.reject(reason());
  }
  return new Promise<ProbeResult>((resolve, reject) => {
    const onAbort = (): void => {
      probe.catch(() => undefined);
      reject(reason());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    probe.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
