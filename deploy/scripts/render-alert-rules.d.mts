/** Types for render-alert-rules.mjs (imported by tests/deploy). */
export interface RenderedAlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface AlertRulesFile {
  comment: string;
  groups: { name: string; rules: RenderedAlertRule[] }[];
}
export const ALERT_RULES_JSON: string;
export const ALERT_RULES_YAML: string;
export function renderAlertRules(rules?: unknown, services?: readonly string[]): AlertRulesFile;
export function alertRulesText(document?: AlertRulesFile): string;
