import type { Database, Queryable } from '@jamey/data';
import { catalog, type Outbox } from '@jamey/events';
import type { Alert } from '../../domain/alerts/alert.js';
import type { AlertChange, AlertStore } from '../../domain/alerts/engine.js';
import { webhookPayload } from '../../domain/alerts/webhook-payload.js';
import { alertToProto } from '../alert-proto.js';

interface AlertRow {
  fingerprint: string;
  id: string;
  rule: string;
  severity: Alert['severity'];
  state: Alert['state'];
  labels: Record<string, string>;
  value: number | string;
  summary: string;
  description: string;
  active_at: Date | string;
  fired_at: Date | string | null;
  resolved_at: Date | string | null;
  updated_at: Date | string;
}

const COLUMNS = 'fingerprint, id, rule, severity, state, labels, value, summary, description, active_at, fired_at, resolved_at, updated_at';

const time = (value: Date | string | null): Date | undefined => (value === null ? undefined : new Date(value));

function toAlert(row: AlertRow): Alert {
  return {
    fingerprint: row.fingerprint,
    id: row.id,
    rule: row.rule,
    severity: row.severity,
    state: row.state,
    labels: row.labels,
    value: Number(row.value),
    summary: row.summary,
    description: row.description,
    activeAt: new Date(row.active_at),
    firedAt: time(row.fired_at),
    resolvedAt: time(row.resolved_at),
    updatedAt: new Date(row.updated_at),
  };
}

const iso = (date: Date | undefined): string | null => date?.toISOString() ?? null;

// Postgres reads 'NaN'/'Infinity' for double precision; a JS NaN would bind as the text "NaN" too,
// but an explicit string keeps both drivers in agreement.
const float = (value: number): string | number => (Number.isFinite(value) ? value : Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity');

/** Options of {@link createPgAlertStore}. */
export interface PgAlertStoreOptions {
  readonly outbox: Outbox;
  /** Whether fired and resolved alerts are queued for the webhook (one is configured). */
  readonly webhook: boolean;
  /** Called after a commit that wrote events (wakes the outbox relay and the webhook worker). */
  readonly onCommitted?: () => void;
}

/**
 * The Postgres (and PGlite) alert store, table `alerts`. Fired and resolved alerts write their
 * `telemetry.alert_fired` / `telemetry.alert_resolved` event to the outbox, and their webhook
 * delivery to `alert_notifications`, in the same transaction as the state change.
 */
export function createPgAlertStore(db: Pick<Database, 'query' | 'transaction'>, options: PgAlertStoreOptions): AlertStore & {
  /** Deletes alerts resolved, and webhook notifications given up, before `before`. */
  prune(before: Date, signal?: AbortSignal): Promise<void>;
} {
  const { outbox, webhook, onCommitted } = options;

  async function applyOne(tx: Queryable, change: AlertChange, signal?: AbortSignal): Promise<boolean> {
    const { alert, expectedUpdatedAt } = change;
    if (change.transition === 'dropped') {
      const { rowCount } = await tx.query('DELETE FROM alerts WHERE fingerprint = $1 AND updated_at = $2', [alert.fingerprint, iso(expectedUpdatedAt)], signal);
      return rowCount === 1;
    }
    const values = [
      alert.fingerprint,
      alert.id,
      alert.rule,
      alert.severity,
      alert.state,
      JSON.stringify(alert.labels),
      float(alert.value),
      alert.summary,
      alert.description,
      iso(alert.activeAt),
      iso(alert.firedAt),
      iso(alert.resolvedAt),
      iso(alert.updatedAt),
    ];
    let applied: number;
    if (expectedUpdatedAt === undefined) {
      // New, or the condition holds again after the alert resolved: the row is reused.
      ({ rowCount: applied } = await tx.query(
        `INSERT INTO alerts (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (fingerprint) DO UPDATE SET
           id = EXCLUDED.id, rule = EXCLUDED.rule, severity = EXCLUDED.severity, state = EXCLUDED.state,
           labels = EXCLUDED.labels, value = EXCLUDED.value, summary = EXCLUDED.summary,
           description = EXCLUDED.description, active_at = EXCLUDED.active_at, fired_at = EXCLUDED.fired_at,
           resolved_at = EXCLUDED.resolved_at, updated_at = EXCLUDED.updated_at
         WHERE alerts.state = 'resolved'`,
        values,
        signal,
      ));
    } else {
      ({ rowCount: applied } = await tx.query(
        `UPDATE alerts SET id = $2, rule = $3, severity = $4, state = $5, labels = $6::jsonb, value = $7, summary = $8,
           description = $9, active_at = $10, fired_at = $11, resolved_at = $12, updated_at = $13
         WHERE fingerprint = $1 AND updated_at = $14`,
        [...values, iso(expectedUpdatedAt)],
        signal,
      ));
    }
    if (applied !== 1) return false;
    if (change.transition === 'fired' || change.transition === 'resolved') {
      const data = { alert: alertToProto(alert) };
      if (change.transition === 'fired') await outbox.append(tx, { definition: catalog['telemetry.alert_fired'], subject: alert.fingerprint, data }, signal);
      else await outbox.append(tx, { definition: catalog['telemetry.alert_resolved'], subject: alert.fingerprint, data }, signal);
      if (webhook) {
        await tx.query(
          `INSERT INTO alert_notifications (fingerprint, transition, payload, next_attempt_at, created_at)
           VALUES ($1, $2, $3::jsonb, $4, $4)`,
          [alert.fingerprint, change.transition, JSON.stringify(webhookPayload(alert)), iso(alert.updatedAt)],
          signal,
        );
      }
    }
    return true;
  }

  return {
    async active(signal) {
      const { rows } = await db.query<AlertRow>(`SELECT ${COLUMNS} FROM alerts WHERE state IN ('pending', 'firing')`, [], signal);
      return rows.map(toAlert);
    },

    async apply(changes, signal) {
      const applied = await db.transaction(async (tx) => {
        const done: AlertChange[] = [];
        for (const change of changes) if (await applyOne(tx, change, signal)) done.push(change);
        return done;
      }, signal);
      if (applied.some((c) => c.transition === 'fired' || c.transition === 'resolved')) onCommitted?.();
      return applied;
    },

    async list(states, limit, signal) {
      const { rows } = await db.query<AlertRow>(
        `SELECT ${COLUMNS} FROM alerts WHERE state = ANY($1::text[]) ORDER BY updated_at DESC, fingerprint LIMIT $2`,
        [states, limit],
        signal,
      );
      return rows.map(toAlert);
    },

    async prune(before, signal) {
      await db.transaction(async (tx) => {
        await tx.query("DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < $1", [before.toISOString()], signal);
        await tx.query('DELETE FROM alert_notifications WHERE gave_up_at < $1', [before.toISOString()], signal);
      }, signal);
    },
  };
}
