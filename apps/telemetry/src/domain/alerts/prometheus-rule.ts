import { formatDuration, toPromQL } from '../metrics/expr.js';
import { compileRule, type AlertRule } from './rules.js';

/** One rule of a Prometheus rule group (`spec.groups[].rules[]` of a PrometheusRule). */
export interface PrometheusAlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A Prometheus rule group. */
export interface PrometheusRuleGroup {
  readonly name: string;
  readonly rules: readonly PrometheusAlertingRule[];
}

/**
 * The rules as Prometheus alerting rules: the same {@link compileRule} expression telemetry
 * evaluates, rendered as PromQL, with `severity` as a label and the texts as annotations (the
 * `{{ $labels.x }}` / `{{ $value }}` placeholders are Prometheus's own template syntax).
 */
export function prometheusRuleGroups(rules: readonly AlertRule[], services: readonly string[]): PrometheusRuleGroup[] {
  return [
    {
      name: 'jamey.alerts',
      rules: rules.map((rule) => ({
        alert: rule.alert,
        expr: toPromQL(compileRule(rule, services)),
        for: formatDuration(rule.forMs),
        labels: { severity: rule.severity },
        annotations: {
          summary: rule.summary,
          description: rule.description,
          ...(rule.runbook === undefined ? {} : { runbook_url: rule.runbook }),
        },
      })),
    },
  ];
}
