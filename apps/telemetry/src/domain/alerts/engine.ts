import type { Clock, IdGenerator } from '@jamey/core';
import { evaluate, type Expr } from '../metrics/expr.js';
import type { SampleWindow } from '../metrics/samples.js';
import { fingerprint, type Alert } from './alert.js';
import { compileRule, renderTemplate, type AlertRule } from './rules.js';

/** A change the engine decided; the store applies a round's changes atomically. */
export interface AlertChange {
  /** The alert after the change. */
  readonly alert: Alert;
  /** `fired` and `resolved` are published (outbox, webhook); `pending` and `updated` are not. */
  readonly transition: 'pending' | 'fired' | 'updated' | 'resolved' | 'dropped';
  /**
   * The `updatedAt` of the stored row this change replaces; undefined for a new alert. The store
   * applies nothing when the row moved on meanwhile (another telemetry replica got there first).
   */
  readonly expectedUpdatedAt: Date | undefined;
}

/** Where alerts are kept. Implemented by the Postgres adapter. */
export interface AlertStore {
  /** Pending and firing alerts. */
  active(signal?: AbortSignal): Promise<Alert[]>;
  /**
   * Applies the changes in one transaction; `fired` and `resolved` ones also write their event
   * to the outbox (and a webhook delivery) in it. Resolves with the changes that applied.
   */
  apply(changes: readonly AlertChange[], signal?: AbortSignal): Promise<readonly AlertChange[]>;
  /** Alerts in `states`, the most recently changed first. */
  list(states: readonly Alert['state'][], limit: number, signal?: AbortSignal): Promise<Alert[]>;
}

/** Dependencies of {@link createAlertEngine}. */
export interface AlertEngineDeps {
  readonly rules: readonly AlertRule[];
  /** Every service telemetry watches (for `service_not_ready`'s scope). */
  readonly services: readonly string[];
  readonly window: SampleWindow;
  readonly store: AlertStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

/** Evaluates the alert rules and drives each alert's lifecycle. */
export interface AlertEngine {
  /**
   * Evaluates every rule over the sample window now, and applies what changed:
   * - a condition that starts to hold makes a `pending` alert (or fires at once when `for` is 0);
   * - a pending alert whose condition held for `for` fires;
   * - a firing alert keeps its value up to date;
   * - a firing alert whose condition stopped holding resolves; a pending one is dropped;
   * - alerts of rules no longer in the file resolve.
   * Resolves with the changes that applied.
   */
  evaluateOnce(signal?: AbortSignal): Promise<readonly AlertChange[]>;
  /** The compiled condition of each rule, by alert name. */
  readonly conditions: ReadonlyMap<string, Expr>;
}

/** Creates an {@link AlertEngine}. */
export function createAlertEngine(deps: AlertEngineDeps): AlertEngine {
  const { rules, window, store, clock, ids } = deps;
  const conditions = new Map(rules.map((rule) => [rule.alert, compileRule(rule, deps.services)]));

  return {
    conditions,
    async evaluateOnce(signal) {
      signal?.throwIfAborted();
      const now = clock.now();
      const at = new Date(now);
      const holding = new Map<string, { rule: AlertRule; labels: Readonly<Record<string, string>>; value: number }>();
      for (const rule of rules) {
        for (const point of evaluate(conditions.get(rule.alert)!, window, now)) {
          holding.set(fingerprint(rule.alert, point.labels), { rule, labels: point.labels, value: point.value });
        }
      }
      const active = new Map((await store.active(signal)).map((alert) => [alert.fingerprint, alert]));
      const changes: AlertChange[] = [];

      for (const [print, { rule, labels, value }] of holding) {
        const existing = active.get(print);
        const text = { summary: renderTemplate(rule.summary, labels, value), description: renderTemplate(rule.description, labels, value) };
        if (existing === undefined) {
          const fires = rule.forMs === 0;
          const alert: Alert = {
            id: ids(),
            fingerprint: print,
            rule: rule.alert,
            severity: rule.severity,
            state: fires ? 'firing' : 'pending',
            labels,
            value,
            ...text,
            activeAt: at,
            firedAt: fires ? at : undefined,
            resolvedAt: undefined,
            updatedAt: at,
          };
          changes.push({ alert, transition: fires ? 'fired' : 'pending', expectedUpdatedAt: undefined });
        } else if (existing.state === 'pending' && now - existing.activeAt.getTime() >= rule.forMs) {
          changes.push({
            alert: { ...existing, severity: rule.severity, state: 'firing', value, ...text, firedAt: at, updatedAt: at },
            transition: 'fired',
            expectedUpdatedAt: existing.updatedAt,
          });
        } else if (existing.value !== value || existing.summary !== text.summary || existing.description !== text.description) {
          changes.push({ alert: { ...existing, value, ...text, updatedAt: at }, transition: 'updated', expectedUpdatedAt: existing.updatedAt });
        }
      }

      for (const [print, existing] of active) {
        if (holding.has(print)) continue;
        if (existing.state === 'firing') {
          changes.push({
            alert: { ...existing, state: 'resolved', resolvedAt: at, updatedAt: at },
            transition: 'resolved',
            expectedUpdatedAt: existing.updatedAt,
          });
        } else {
          changes.push({ alert: existing, transition: 'dropped', expectedUpdatedAt: existing.updatedAt });
        }
      }
      signal?.throwIfAborted();
      return changes.length === 0 ? [] : store.apply(changes, signal);
    },
  };
}
