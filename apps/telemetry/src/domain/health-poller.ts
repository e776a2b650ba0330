import { createPeriodicTask, type PeriodicTask } from '@jamey/core';
import type { HealthMonitor } from './health-monitor.js';

/** Dependencies of {@link createHealthPoller}. */
export interface HealthPollerDeps {
  readonly monitor: Pick<HealthMonitor, 'pollOnce'>;
  /** Pause between the end of one round and the start of the next, in milliseconds. */
  readonly intervalMs: number;
  /** Told about a round that failed (for example, the database was down); the poller goes on. */
  readonly onError: (error: unknown) => void;
}

/** A worker (start/stop) that runs {@link HealthMonitor.pollOnce} on an interval. */
export type HealthPoller = PeriodicTask;

/**
 * Creates the poller. Rounds never overlap: the next one is scheduled when the previous one
 * settles, so a slow round delays the next instead of piling up.
 */
export function createHealthPoller(deps: HealthPollerDeps): HealthPoller {
  const { monitor, intervalMs, onError } = deps;
  return createPeriodicTask({ intervalMs, onError, run: (signal) => monitor.pollOnce(signal).then(() => undefined) });
}
