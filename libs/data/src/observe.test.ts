/** observeDatabase reports queries and transactions on both drivers; poolStats tells occupancy. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemClock } from '@jamey/core';
import { observeDatabase, openDatabase, type Database, type DatabaseObservation } from './index.js';
import { describeOnEachDatabase, type TestDatabase } from './testing.js';

describeOnEachDatabase('observeDatabase', 'MEMORY_DATABASE_URL', (createDatabase) => {
  let test: TestDatabase;
  let raw: Database;
  let db: Database;
  const seen: DatabaseObservation[] = [];

  beforeAll(async () => {
    test = await createDatabase();
    raw = await openDatabase({ url: test.url, poolSize: 2 });
    db = observeDatabase(raw, { clock: systemClock, observer: (o) => seen.push(o) });
  });
  afterAll(async () => {
    await raw?.close();
    await test?.cleanup();
  });

  it('reports each query and each transaction once, failed ones as not ok', async () => {
    seen.length = 0;
    await db.query('SELECT 1');
    await db.transaction(async (tx) => {
      await tx.query('SELECT 1');
      await tx.query('SELECT 2');
    });
    await expect(db.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    await expect(db.transaction(() => Promise.reject(new Error('rolled back')))).rejects.toThrow('rolled back');
    await db.ping();
    expect(seen.map(({ operation, ok }) => `${operation} ${ok}`)).toEqual(['query true', 'transaction true', 'query false', 'transaction false']);
    expect(seen.every((o) => o.durationMs >= 0)).toBe(true);
  });

  it('leaves results and errors untouched and passes pool occupancy through', async () => {
    expect((await db.query<{ n: number }>('SELECT 7 AS n')).rows).toEqual([{ n: 7 }]);
    const stats = db.poolStats();
    expect(stats).toEqual(raw.poolStats());
    expect(stats.total).toBeGreaterThanOrEqual(1);
    expect(stats.waiting).toBe(0);
    if (raw.kind === 'pglite') expect(stats).toEqual({ total: 1, idle: 1, waiting: 0 });
  });

  it('survives an observer that throws', async () => {
    const errors: unknown[] = [];
    const throwing = observeDatabase(raw, {
      clock: systemClock,
      observer: () => {
        throw new Error('observer broke');
      },
      logger: { error: (fields) => void errors.push(fields) },
    });
    expect((await throwing.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
    expect(errors).toHaveLength(1);
  });
});
