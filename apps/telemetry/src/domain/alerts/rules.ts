import { z } from '@jamey/config';
import { parseDuration, type Expr } from '../metrics/expr.js';
import { errorRatio, latencyQuantile, METRICS, requestRate, requiredReadinessChecks } from '../metrics/queries.js';
import type { LabelMatcher } from '../metrics/samples.js';

export { GRPC_ERROR_CODES, METRICS } from '../metrics/queries.js';

/**
 * Jamey's alert rules: one declarative file (`apps/telemetry/alert-rules.yaml`), validated
 * here. Each rule has a `kind`, which fixes what it measures and which labels its alerts carry;
 * {@link compileRule} turns it into an {@link Expr}, which telemetry evaluates natively and
 * `deploy/scripts/render-alert-rules.mjs` renders as PromQL for the Helm chart's PrometheusRule.
 */

/** How urgent an alert is. */
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What a rule measures. */
export const RULE_KINDS = ['error_rate', 'latency', 'breaker_open', 'consumer_lag', 'dead_letter_growth', 'service_not_ready', 'counter_rate'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/**
 * The labels each fixed kind's alerts carry (its `by` clause). A `counter_rate` rule names its
 * own in `by`: see {@link ruleLabels}.
 */
export const RULE_LABELS: Readonly<Record<Exclude<RuleKind, 'counter_rate'>, readonly string[]>> = Object.freeze({
  error_rate: ['service'],
  latency: ['service'],
  breaker_open: ['service', 'dependency'],
  consumer_lag: ['service', 'group', 'topic'],
  dead_letter_growth: ['service', 'group', 'topic'],
  service_not_ready: ['service'],
});

/**
 * One counter a `counter_rate` rule reads: `metric{matchers}`. Matchers are equality, or a fully
 * anchored regular expression (PromQL's `=~`).
 */
export interface CounterSignal {
  readonly metric: string;
  readonly matchers: readonly LabelMatcher[];
}

/** A validated rule, durations in milliseconds. */
export interface AlertRule {
  /** The alert's name (Prometheus `alertname`): `PascalCase`, unique in the file. */
  readonly alert: string;
  readonly kind: RuleKind;
  readonly severity: Severity;
  /** How long the condition must hold before the alert fires. */
  readonly forMs: number;
  /** The window rates and increases are taken over (error_rate, latency, dead_letter_growth, counter_rate). */
  readonly windowMs: number | undefined;
  /**
   * error_rate: share of failed requests (0..1); latency: seconds; consumer_lag: messages;
   * dead_letter_growth: dead letters in the window; counter_rate: increments per second (the
   * alert fires above it).
   */
  readonly threshold: number | undefined;
  /** latency: the quantile, 0..1 (default 0.99). */
  readonly quantile: number | undefined;
  /** error_rate, latency: services quieter than this many requests per second are not judged. */
  readonly minRequestRate: number | undefined;
  /** Only these services; all when undefined. */
  readonly services: readonly string[] | undefined;
  /**
   * counter_rate: the counters whose rate is measured, in order of preference: per `by` group,
   * the first signal that has series there counts (PromQL's `or`), so a dedicated counter wins
   * over a fallback such as HTTP status codes and nothing is counted twice.
   */
  readonly signals: readonly CounterSignal[] | undefined;
  /** counter_rate: the labels the rate is summed by, which its alerts carry. */
  readonly by: readonly string[] | undefined;
  /** One line; may use `{{ $labels.<label> }}` and `{{ $value }}` (see {@link renderTemplate}). */
  readonly summary: string;
  readonly description: string;
  /** Where to read what to do about it, when set. */
  readonly runbook: string | undefined;
}

/** A rules file that does not validate; `problems` lists every problem with its path. */
export class AlertRulesError extends Error {
  override readonly name = 'AlertRulesError';
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(`invalid alert rules in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

const duration = z.string().refine((text) => parseDuration(text) !== undefined, 'must be a duration such as 30s, 5m or 1h30m');
const TEMPLATE = /\{\{(.*?)\}\}/g;
const PLACEHOLDER = /^\s*\$(value(\s*\|\s*(humanize|humanizePercentage|humanizeDuration))?|labels\.([a-z_][a-z0-9_]*))\s*$/;

const LABEL_NAME = /^[a-z_][a-z0-9_]*$/;
// Reserved by the evaluation itself: `le` is a histogram's bucket label.
const labelName = z.string().regex(LABEL_NAME, 'must be a label name (lower case, digits, _)').refine((label) => label !== 'le', 'le is a bucket label, not a grouping');
const regexText = z.string().refine((text) => {
  try {
    new RegExp(`^(?:${text})$`);
    return true;
  } catch {
    return false;
  }
}, 'must be a valid regular expression');
const signalSchema = z
  .object({
    // Only counters have a rate: `_total`, or a histogram's `_count`.
    metric: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*_(total|count)$/, 'must be a counter: a metric name ending in _total or _count'),
    matchers: z.record(z.string(), z.union([z.string(), z.object({ regex: regexText }).strict()])).optional(),
  })
  .strict()
  .superRefine((signal, ctx) => {
    // Checked here rather than by the record's key schema, whose message would not say why.
    for (const label of Object.keys(signal.matchers ?? {})) {
      if (!LABEL_NAME.test(label)) ctx.addIssue({ code: 'custom', path: ['matchers', label], message: 'must be a label name (lower case, digits, _)' });
    }
  });

const ruleSchema = z
  .object({
    alert: z.string().regex(/^[A-Z][A-Za-z0-9]{2,99}$/, 'must be PascalCase, 3..100 letters and digits'),
    kind: z.enum(RULE_KINDS),
    severity: z.enum(SEVERITIES),
    for: duration,
    window: duration.optional(),
    threshold: z.number().finite().min(0).optional(),
    quantile: z.number().gt(0).lt(1).optional(),
    minRequestRate: z.number().finite().min(0).optional(),
    services: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).min(1).optional(),
    signals: z.array(signalSchema).min(1).max(8).optional(),
    by: z
      .array(labelName)
      .min(1)
      .refine((labels) => new Set(labels).size === labels.length, 'must not name a label twice')
      .optional(),
    summary: z.string().min(1).max(300),
    description: z.string().min(1).max(2000),
    runbook: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const needs = (field: 'window' | 'threshold' | 'signals' | 'by', kinds: readonly RuleKind[]): void => {
      const present = rule[field] !== undefined;
      if (kinds.includes(rule.kind) && !present) ctx.addIssue({ code: 'custom', path: [field], message: `is required for kind ${rule.kind}` });
      if (!kinds.includes(rule.kind) && present) ctx.addIssue({ code: 'custom', path: [field], message: `does not apply to kind ${rule.kind}` });
    };
    needs('window', ['error_rate', 'latency', 'dead_letter_growth', 'counter_rate']);
    needs('threshold', ['error_rate', 'latency', 'consumer_lag', 'dead_letter_growth', 'counter_rate']);
    needs('signals', ['counter_rate']);
    needs('by', ['counter_rate']);
    const labels = rule.kind === 'counter_rate' ? (rule.by ?? []) : RULE_LABELS[rule.kind];
    if (rule.quantile !== undefined && rule.kind !== 'latency') ctx.addIssue({ code: 'custom', path: ['quantile'], message: 'applies only to kind latency' });
    if (rule.minRequestRate !== undefined && rule.kind !== 'error_rate' && rule.kind !== 'latency') {
      ctx.addIssue({ code: 'custom', path: ['minRequestRate'], message: 'applies only to kinds error_rate and latency' });
    }
    if (rule.kind === 'error_rate' && rule.threshold !== undefined && rule.threshold > 1) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'is a share of requests: 0..1' });
    }
    for (const field of ['summary', 'description'] as const) {
      for (const [, inner] of rule[field].matchAll(TEMPLATE)) {
        const match = PLACEHOLDER.exec(inner!);
        const label = match?.[4];
        if (!match) {
          ctx.addIssue({ code: 'custom', path: [field], message: `{{${inner}}}: only {{ $value }} (optionally | humanize, humanizePercentage or humanizeDuration) and {{ $labels.<label> }} are allowed` });
        } else if (label !== undefined && !labels.includes(label)) {
          const which = rule.kind === 'counter_rate' ? 'this rule groups by' : `kind ${rule.kind} has the labels`;
          ctx.addIssue({ code: 'custom', path: [field], message: `{{${inner}}}: ${which} ${labels.join(', ')}` });
        }
      }
    }
  });

const fileSchema = z
  .object({ rules: z.array(ruleSchema).min(1, 'must declare at least one rule') })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.rules.forEach((rule, i) => {
      if (seen.has(rule.alert)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'alert'], message: `${rule.alert} is declared twice` });
      seen.add(rule.alert);
    });
  });

/**
 * Validates a parsed rules document (the YAML's content) and returns its rules.
 * @param source names the file in the error message.
 * @throws AlertRulesError listing every problem at once, each with its path (`rules.2.window`).
 */
export function validateAlertRules(document: unknown, source: string): readonly AlertRule[] {
  const result = fileSchema.safeParse(document);
  if (!result.success) {
    throw new AlertRulesError(
      source,
      result.error.issues.map((issue) => {
        const path = issue.path.join('.') || '(root)';
        const index = issue.path[0] === 'rules' && typeof issue.path[1] === 'number' ? issue.path[1] : undefined;
        const name = index === undefined ? undefined : (document as { rules?: { alert?: unknown }[] }).rules?.[index]?.alert;
        return `${path}${typeof name === 'string' ? ` (${name})` : ''}: ${issue.message}`;
      }),
    );
  }
  return Object.freeze(
    result.data.rules.map((rule) =>
      Object.freeze({
        alert: rule.alert,
        kind: rule.kind,
        severity: rule.severity,
        forMs: parseDuration(rule.for)!,
        windowMs: rule.window === undefined ? undefined : parseDuration(rule.window)!,
        threshold: rule.threshold,
        quantile: rule.kind === 'latency' ? (rule.quantile ?? 0.99) : undefined,
        minRequestRate: rule.minRequestRate,
        services: rule.services === undefined ? undefined : Object.freeze([...rule.services]),
        signals:
          rule.signals === undefined
            ? undefined
            : Object.freeze(
                rule.signals.map((signal) =>
                  Object.freeze({
                    metric: signal.metric,
                    matchers: Object.freeze(
                      Object.entries(signal.matchers ?? {}).map(([label, value]): LabelMatcher =>
                        typeof value === 'string' ? { label, op: '=', value } : { label, op: '=~', value: value.regex },
                      ),
                    ),
                  }),
                ),
              ),
        by: rule.by === undefined ? undefined : Object.freeze([...rule.by]),
        summary: rule.summary,
        description: rule.description,
        runbook: rule.runbook,
      }),
    ),
  );
}

/** The labels `rule`'s alerts carry: its kind's ({@link RULE_LABELS}), or a counter_rate's `by`. */
export function ruleLabels(rule: AlertRule): readonly string[] {
  return rule.kind === 'counter_rate' ? rule.by! : RULE_LABELS[rule.kind];
}

/**
 * The condition of `rule` as an expression: the series it returns are the alerts that hold now,
 * labelled by {@link ruleLabels}, with the measured value.
 */
export function compileRule(rule: AlertRule, knownServices: readonly string[]): Expr {
  const scope: LabelMatcher[] = rule.services ? [{ label: 'service', op: '=~', value: rule.services.join('|') }] : [];
  const by = ruleLabels(rule);
  const busyEnough = (condition: Expr, windowMs: number): Expr =>
    rule.minRequestRate === undefined || rule.minRequestRate === 0
      ? condition
      : { kind: 'and', left: condition, right: { kind: 'compare', op: '>=', expr: requestRate(by, scope, windowMs), value: rule.minRequestRate } };
  switch (rule.kind) {
    case 'error_rate':
      return busyEnough({ kind: 'compare', op: '>', expr: errorRatio(by, scope, rule.windowMs!), value: rule.threshold! }, rule.windowMs!);
    case 'latency':
      return busyEnough({ kind: 'compare', op: '>', expr: latencyQuantile(rule.quantile!, by, scope, rule.windowMs!), value: rule.threshold! }, rule.windowMs!);
    case 'breaker_open':
      return {
        kind: 'compare',
        op: '==',
        expr: { kind: 'aggregate', op: 'max', by, expr: { kind: 'selector', metric: METRICS.breakerState, matchers: [...scope, { label: 'state', op: '=', value: 'open' }] } },
        value: 1,
      };
    case 'consumer_lag':
      return { kind: 'compare', op: '>', expr: { kind: 'aggregate', op: 'max', by, expr: { kind: 'selector', metric: METRICS.consumerLag, matchers: scope } }, value: rule.threshold! };
    case 'dead_letter_growth':
      return {
        kind: 'compare',
        op: '>',
        expr: { kind: 'aggregate', op: 'sum', by, expr: { kind: 'increase', metric: METRICS.deadLetters, matchers: scope, windowMs: rule.windowMs! } },
        value: rule.threshold!,
      };
    case 'service_not_ready': {
      // A required readiness check fails (optional ones only degrade), or the scrape got no answer.
      // Prometheus's `up` covers every scrape target; keep to Jamey's services.
      const targets: LabelMatcher = { label: 'service', op: '=~', value: (rule.services ?? knownServices).join('|') };
      const failing = (matchers: readonly LabelMatcher[]): Expr => ({
        kind: 'compare',
        op: '==',
        expr: { kind: 'aggregate', op: 'min', by, expr: { kind: 'selector', metric: METRICS.readiness, matchers: [...scope, ...matchers] } },
        value: 0,
      });
      const checks = requiredReadinessChecks().map(failing);
      const notAnswering: Expr = { kind: 'compare', op: '==', expr: { kind: 'aggregate', op: 'min', by, expr: { kind: 'selector', metric: METRICS.up, matchers: [targets] } }, value: 0 };
      return [...checks, notAnswering].reduce((left, right) => ({ kind: 'or', left, right }));
    }
    case 'counter_rate': {
      // Per group, the first signal with series there: `or` keeps a fallback from counting twice.
      const rates = rule.signals!.map((signal): Expr => ({
        kind: 'aggregate',
        op: 'sum',
        by,
        expr: { kind: 'rate', metric: signal.metric, matchers: [...scope, ...signal.matchers], windowMs: rule.windowMs! },
      }));
      return { kind: 'compare', op: '>', expr: rates.reduce((left, right) => ({ kind: 'or', left, right })), value: rule.threshold! };
    }
  }
}

/**
 * Fills a summary or description the way Prometheus's alert templates do, for the placeholders
 * the schema allows: `{{ $labels.x }}`, `{{ $value }}`, and `$value` piped to `humanize`
 * (4 significant digits with k/M/G…), `humanizePercentage` (×100, %) or `humanizeDuration`
 * (seconds as `1m 30s`, `250ms`).
 */
export function renderTemplate(text: string, labels: Readonly<Record<string, string>>, value: number): string {
  return text.replace(TEMPLATE, (whole, inner: string) => {
    const match = PLACEHOLDER.exec(inner);
    if (!match) return whole;
    if (match[4] !== undefined) return labels[match[4]] ?? '';
    switch (match[3]) {
      case 'humanize':
        return humanize(value);
      case 'humanizePercentage':
        return `${significant(value * 100)}%`;
      case 'humanizeDuration':
        return humanizeDuration(value);
      default:
        return formatValue(value);
    }
  });
}

/** `$value` as Go's `strconv.FormatFloat(v, 'f', -1, 64)`-like text. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}

const significant = (value: number): string => String(Number(value.toPrecision(4)));

function humanize(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return formatValue(value);
  const prefixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let scaled = value;
  let i = 0;
  while (Math.abs(scaled) >= 1000 && i < prefixes.length - 1) {
    scaled /= 1000;
    i++;
  }
  return `${significant(scaled)}${prefixes[i]}`;
}

function humanizeDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return formatValue(seconds);
  if (Math.abs(seconds) < 1) return seconds === 0 ? '0s' : `${significant(seconds * 1000)}ms`;
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.abs(seconds);
  const days = Math.floor(rest / 86_400);
  rest -= days * 86_400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  rest -= minutes * 60;
  const parts = [days ? `${days}d` : '', hours ? `${hours}h` : '', minutes ? `${minutes}m` : '', `${significant(rest)}s`].filter(Boolean);
  return sign + parts.join(' ');
}
