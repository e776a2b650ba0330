import { createIdGenerator, createManualClock, createSeededRandom } from '@jamey/core';
import { migrate, openDatabase, type Database } from '@jamey/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgAuditRepository } from './adapters/pg/audit-repository.js';
import { auditMigrationsDir } from './migrations.js';
import { createRetentionWorker } from './retention.js';

const DAY = 86_400_000;
const t0 = Date.UTC(2026, 0, 1);

describe('the retention worker', () => {
  let db: Database;
  const clock = createManualClock(t0 + 30 * DAY);
  const ids = createIdGenerator(clock, createSeededRandom(5));

  beforeAll(async () => {
    db = await openDatabase({ url: 'pglite://memory' });
    await migrate(db, { dir: auditMigrationsDir, table: 'audit_migrations' });
    const repo = createPgAuditRepository(db);
    // Stored 0, 10, 20 and 29 days after t0; "now" is day 30.
    for (const day of [0, 10, 20, 29]) {
      await db.transaction((tx) =>
        repo.append(
          tx,
          { eventId: ids(), type: 'memory.deleted', source: 'memory', subject: `d${day}`, eventTime: new Date(t0 + day * DAY), traceparent: '', dataSchema: '', dataJson: null, envelope: new Uint8Array([day]), topic: 't' },
          new Date(t0 + day * DAY),
        ),
      );
    }
  });
  afterAll(async () => {
    await db?.close();
  });

  it('archives, at start, the records stored longer ago than the retention period', async () => {
    let errors = 0;
    let archived!: (count: number) => void;
    const done = new Promise<number>((resolve) => (archived = resolve));
    const worker = createRetentionWorker({ db, clock, afterMs: 15 * DAY, intervalMs: 3_600_000, onArchived: archived, onError: () => (errors += 1) });
    worker.start();
    expect(await done).toBe(2);
    await worker.stop();
    const live = await createPgAuditRepository(db).query({}, 0, 10);
    expect(live.map((r) => r.subject)).toEqual(['d20', 'd29']);
    expect(errors).toBe(0);
  });
});
