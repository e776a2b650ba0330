import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDatabase, type Database } from '@jamey/data';
import { createTestSchema, describeWithInfra, type TestSchema } from '@jamey/data/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryMigrationsDir } from '../../migrations.js';
import type { HealthCheckRecord } from '../../domain/health.js';
import { createPgHealthHistory } from './health-history.js';

const t0 = Date.UTC(2026, 0, 1);
const check = (service: string, status: HealthCheckRecord['status'], atMs: number, detail = ''): HealthCheckRecord => ({
  service,
  target: `${service}:50051`,
  status,
  detail,
  latencyMs: 1.5,
  checkedAt: new Date(atMs),
});

function historyTests(open: () => Promise<Database>): void {
  let db: Database;

  beforeAll(async () => {
    db = await open();
    await migrate(db, { dir: telemetryMigrationsDir, table: 'telemetry_migrations' });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('stores rounds, answers the latest per service and prunes by age in the same transaction', async () => {
    const history = createPgHealthHistory(db);
    await history.record([check('memory', 'SERVING', t0), check('soul', 'UNREACHABLE', t0, 'connection refused')], new Date(0));
    await history.record([check('memory', 'NOT_SERVING', t0 + 1000, 'not serving'), check('soul', 'SERVING', t0 + 1000)], new Date(0));
    expect((await history.latest()).sort((a, b) => a.service.localeCompare(b.service))).toEqual([
      check('memory', 'NOT_SERVING', t0 + 1000, 'not serving'),
      check('soul', 'SERVING', t0 + 1000),
    ]);
    const count = async (): Promise<number> =>
      Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM health_checks')).rows[0]!.n);
    expect(await count()).toBe(4);

    // Rows checked strictly before the cutoff go; the cutoff itself stays.
    await history.record([], new Date(t0 + 1000));
    expect(await count()).toBe(2);
    await history.record([check('memory', 'SERVING', t0 + 2000)], new Date(t0 + 2000));
    expect(await count()).toBe(1);
    expect(await history.latest()).toEqual([check('memory', 'SERVING', t0 + 2000)]);
  });

  it('rejects a status the domain does not know', async () => {
    const history = createPgHealthHistory(db);
    await expect(history.record([{ ...check('memory', 'SERVING', t0), status: 'BROKEN' as 'SERVING' }], new Date(0))).rejects.toMatchObject({
      code: '23514',
    });
  });
}

describe('health history on PGlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'telemetry-history-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  historyTests(() => openDatabase({ url: `pglite://${dir}` }));
});

describeWithInfra(['TELEMETRY_DATABASE_URL'], 'health history on Postgres', (env) => {
  let schema: TestSchema;
  afterAll(async () => {
    await schema?.drop();
  });
  historyTests(async () => {
    schema = await createTestSchema(env.TELEMETRY_DATABASE_URL!, 'telemetry_history');
    return openDatabase({ url: schema.url, poolSize: 2 });
  });
});
