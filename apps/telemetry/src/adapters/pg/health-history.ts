import type { Database } from '@jamey/data';
import type { HealthHistory } from '../../domain/health-monitor.js';
import type { CheckStatus, HealthCheckRecord } from '../../domain/health.js';

interface HealthCheckRow {
  service: string;
  target: string;
  status: CheckStatus;
  detail: string;
  latency_ms: number | string;
  checked_at: Date | string;
}

function toRecord(row: HealthCheckRow): HealthCheckRecord {
  return {
    service: row.service,
    target: row.target,
    status: row.status,
    detail: row.detail,
    latencyMs: Number(row.latency_ms),
    checkedAt: new Date(row.checked_at),
  };
}

/** The Postgres (and PGlite) health history, table `health_checks`. */
export function createPgHealthHistory(db: Pick<Database, 'query' | 'transaction'>): HealthHistory {
  return {
    async record(records, pruneBefore, signal) {
      await db.transaction(async (tx) => {
        if (records.length > 0) {
          // One multi-row INSERT per round: unnest keeps the statement's text fixed.
          await tx.query(
            `INSERT INTO health_checks (service, target, status, detail, latency_ms, checked_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::timestamptz[])`,
            [
              records.map((r) => r.service),
              records.map((r) => r.target),
              records.map((r) => r.status),
              records.map((r) => r.detail),
              records.map((r) => r.latencyMs),
              records.map((r) => r.checkedAt.toISOString()),
            ],
            signal,
          );
        }
        await tx.query('DELETE FROM health_checks WHERE checked_at < $1', [pruneBefore.toISOString()], signal);
      }, signal);
    },

    async latest(signal) {
      const { rows } = await db.query<HealthCheckRow>(
        `SELECT DISTINCT ON (service) service, target, status, detail, latency_ms, checked_at
         FROM health_checks
         ORDER BY service, checked_at DESC, id DESC`,
        [],
        signal,
      );
      return rows.map(toRecord);
    },
  };
}
