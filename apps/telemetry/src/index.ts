export {
  startTelemetryService,
  telemetryMigrationsDir,
  healthTargets,
  scrapeTargets,
  type TelemetryServiceOptions,
  type RunningTelemetryService,
} from './service.js';
export { loadTelemetryConfig, type TelemetryConfig, type TelemetryTargets, type AlertingConfig } from './config.js';
export { loadAlertRules, parseAlertRules, DEFAULT_ALERT_RULES_FILE } from './adapters/rules-file.js';
export { AlertRulesError, compileRule, ruleLabels, RULE_KINDS, RULE_LABELS, SEVERITIES, type AlertRule, type CounterSignal, type RuleKind, type Severity } from './domain/alerts/rules.js';
export { toPromQL, formatDuration, parseDuration, type Expr } from './domain/metrics/expr.js';
export { prometheusRuleGroups, type PrometheusRuleGroup } from './domain/alerts/prometheus-rule.js';
