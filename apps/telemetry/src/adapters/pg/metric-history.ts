import type { Database } from '@jamey/data';
import type { HistoryMetric, HistoryPoint, MetricHistoryStore } from '../../domain/metrics/history.js';

interface HistoryRow {
  service: string;
  metric: HistoryMetric;
  bucket_start: Date | string;
  value: number | string;
}

/** The Postgres (and PGlite) metric history, table `metric_history`. */
export function createPgMetricHistory(db: Pick<Database, 'query' | 'transaction'>): MetricHistoryStore {
  return {
    async record(points, pruneBefore, signal) {
      await db.transaction(async (tx) => {
        if (points.length > 0) {
          // One statement per round; a later round of the same interval overwrites its values.
          await tx.query(
            `INSERT INTO metric_history (service, metric, bucket_start, value)
             SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[])
             ON CONFLICT (service, metric, bucket_start) DO UPDATE SET value = EXCLUDED.value`,
            [points.map((p) => p.service), points.map((p) => p.metric), points.map((p) => p.at.toISOString()), points.map((p) => p.value)],
            signal,
          );
        }
        await tx.query('DELETE FROM metric_history WHERE bucket_start < $1', [pruneBefore.toISOString()], signal);
      }, signal);
    },

    async query(query, signal) {
      const { rows } = await db.query<HistoryRow>(
        `SELECT service, metric, bucket_start, value FROM metric_history
         WHERE bucket_start >= $1 AND bucket_start < $2
           AND (cardinality($3::text[]) = 0 OR service = ANY($3::text[]))
           AND (cardinality($4::text[]) = 0 OR metric = ANY($4::text[]))
         ORDER BY service, metric, bucket_start`,
        [query.since.toISOString(), query.until.toISOString(), [...(query.services ?? [])], [...(query.metrics ?? [])]],
        signal,
      );
      return rows.map((row): HistoryPoint => ({ service: row.service, metric: row.metric, at: new Date(row.bucket_start), value: Number(row.value) }));
    },
  };
}
