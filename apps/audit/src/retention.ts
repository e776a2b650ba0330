import { createPeriodicTask, type Clock } from '@jamey/core';
import type { Database } from '@jamey/data';
import type { Worker } from '@jamey/service';
import { archiveRecords } from './adapters/pg/audit-repository.js';

/** Options of {@link createRetentionWorker}. */
export interface RetentionOptions {
  readonly db: Database;
  readonly clock: Clock;
  /** Records stored longer ago than this move to the archive, in ms (`AUDIT_RETENTION_DAYS`). */
  readonly afterMs: number;
  /** How often the worker archives, in ms. The first run is at start. */
  readonly intervalMs: number;
  readonly onArchived?: (count: number) => void;
  readonly onError: (error: unknown) => void;
}

/**
 * Moves records older than the retention period to `audit_records_archive` (see
 * `archiveRecords`) at start and then every `intervalMs`. A failed round is reported and
 * retried at the next interval; stop waits for a round in progress after aborting it.
 */
export function createRetentionWorker(options: RetentionOptions): Worker {
  const { db, clock, afterMs, intervalMs, onArchived, onError } = options;
  return createPeriodicTask({
    intervalMs,
    onError,
    async run(signal) {
      const count = await archiveRecords(db, { before: new Date(clock.now() - afterMs), signal });
      if (count > 0) onArchived?.(count);
    },
  });
}
