import { describe, expect, it } from 'vitest';
import { loadAlertRules, parseAlertRules } from '../../adapters/rules-file.js';
import { toPromQL } from '../metrics/expr.js';
import { AlertRulesError, compileRule, renderTemplate, ruleLabels, RULE_KINDS, validateAlertRules } from './rules.js';

const SERVICES = ['gateway', 'memory', 'consciousness', 'soul', 'audit', 'telemetry'];

const problemsOf = (document: unknown): string[] => {
  try {
    validateAlertRules(document, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(AlertRulesError);
    expect((error as Error).message).toContain('test.yaml');
    return [...(error as AlertRulesError).problems];
  }
  return [];
};

const base = { alert: 'JameyX', kind: 'breaker_open', severity: 'critical', for: '1m', summary: 's', description: 'd' };

describe('the rules file', () => {
  it('ships one valid rule for each kind the issue asks for', () => {
    const rules = loadAlertRules();
    expect(new Set(rules.map((r) => r.kind))).toEqual(new Set(RULE_KINDS));
    for (const rule of rules) expect(() => compileRule(rule, SERVICES)).not.toThrow();
  });

  it('lists every problem of every rule at once, with its path and rule name', () => {
    expect(
      problemsOf({
        rules: [
          { ...base, alert: 'bad name', for: '5 minutes', severity: 'page' },
          { ...base, alert: 'JameyLatency', kind: 'latency', window: '5m', summary: '{{ $labels.dependency }} {{ .Foo }}' },
          { ...base, kind: 'error_rate', threshold: 5, extra: true },
        ],
      }).sort(),
    ).toEqual(
      [
        'rules.0.alert (bad name): must be PascalCase, 3..100 letters and digits',
        'rules.0.for (bad name): must be a duration such as 30s, 5m or 1h30m',
        'rules.0.severity (bad name): Invalid option: expected one of "info"|"warning"|"critical"',
        'rules.1.summary (JameyLatency): {{ .Foo }}: only {{ $value }} (optionally | humanize, humanizePercentage or humanizeDuration) and {{ $labels.<label> }} are allowed',
        'rules.1.summary (JameyLatency): {{ $labels.dependency }}: kind latency has the labels service',
        'rules.1.threshold (JameyLatency): is required for kind latency',
        'rules.2 (JameyX): Unrecognized key: "extra"',
        'rules.2.threshold (JameyX): is a share of requests: 0..1',
        'rules.2.window (JameyX): is required for kind error_rate',
      ].sort(),
    );
  });

  it('rejects two rules with the same name', () => {
    expect(problemsOf({ rules: [base, { ...base, for: '2m' }] })).toEqual(['rules.1.alert (JameyX): JameyX is declared twice']);
    expect(problemsOf({ rules: [] })).toEqual(['rules: must declare at least one rule']);
    expect(problemsOf({ rules: [base], groups: [] })).toEqual([expect.stringMatching(/Unrecognized key: "groups"/)]);
  });

  it('rejects YAML that does not parse, and an empty file', () => {
    expect(() => parseAlertRules('rules: [', 'broken.yaml')).toThrow(/broken.yaml[\s\S]*not valid YAML/);
    expect(() => parseAlertRules('', 'empty.yaml')).toThrow(AlertRulesError);
    expect(() => loadAlertRules('/nonexistent/rules.yaml')).toThrow(/cannot read the file/);
  });
});

describe('counter_rate rules', () => {
  const counter = {
    ...base,
    alert: 'JameyAuthFailures',
    kind: 'counter_rate',
    window: '5m',
    threshold: 0.1,
    by: ['service'],
    signals: [{ metric: 'jamey_security_refusals_total', matchers: { outcome: 'unauthenticated' } }],
  };

  it('validates signals, by and their templates', () => {
    expect(problemsOf({ rules: [counter] })).toEqual([]);
    expect(
      problemsOf({
        rules: [
          { ...counter, signals: undefined, by: undefined, window: undefined },
          { ...counter, alert: 'JameyTwo', signals: [{ metric: 'jamey_circuit_breaker_state' }, { metric: 'x_total', matchers: { Code: 'a', status_code: { regex: '4((' } }, extra: 1 }] },
          { ...counter, alert: 'JameyThree', by: ['service', 'le', 'service'], summary: '{{ $labels.route }}' },
          { ...base, alert: 'JameyFour', by: ['service'], signals: [{ metric: 'a_total' }] },
        ],
      }).sort(),
    ).toEqual(
      [
        'rules.0.by (JameyAuthFailures): is required for kind counter_rate',
        'rules.0.signals (JameyAuthFailures): is required for kind counter_rate',
        'rules.0.window (JameyAuthFailures): is required for kind counter_rate',
        'rules.1.signals.0.metric (JameyTwo): must be a counter: a metric name ending in _total or _count',
        'rules.1.signals.1 (JameyTwo): Unrecognized key: "extra"',
        'rules.1.signals.1.matchers.Code (JameyTwo): must be a label name (lower case, digits, _)',
        'rules.1.signals.1.matchers.status_code.regex (JameyTwo): must be a valid regular expression',
        'rules.2.by (JameyThree): must not name a label twice',
        'rules.2.by.1 (JameyThree): le is a bucket label, not a grouping',
        'rules.2.summary (JameyThree): {{ $labels.route }}: this rule groups by service, le, service',
        'rules.3.by (JameyFour): does not apply to kind breaker_open',
        'rules.3.signals (JameyFour): does not apply to kind breaker_open',
      ].sort(),
    );
  });

  it('renders a rate summed by its labels; several signals as `or`, the first preferred', () => {
    const [one, two] = validateAlertRules(
      {
        rules: [
          counter,
          {
            ...counter,
            alert: 'JameyTwo',
            by: ['service', 'route'],
            services: ['gateway'],
            signals: [
              { metric: 'jamey_security_refusals_total', matchers: { outcome: 'denied' } },
              { metric: 'http_server_request_duration_seconds_count', matchers: { status_code: { regex: '403|404' }, method: 'GET' } },
            ],
          },
        ],
      },
      'x',
    );
    expect(toPromQL(compileRule(one!, SERVICES))).toBe('(sum by (service) (rate(jamey_security_refusals_total{outcome="unauthenticated"}[5m]))) > 0.1');
    expect(toPromQL(compileRule(two!, SERVICES))).toBe(
      '((sum by (service, route) (rate(jamey_security_refusals_total{service=~"gateway",outcome="denied"}[5m]))) or (sum by (service, route) (rate(http_server_request_duration_seconds_count{service=~"gateway",status_code=~"403|404",method="GET"}[5m])))) > 0.1',
    );
    expect(ruleLabels(two!)).toEqual(['service', 'route']);
    expect(ruleLabels(validateAlertRules({ rules: [base] }, 'x')[0]!)).toEqual(['service', 'dependency']);
  });
});

describe('compiled conditions', () => {
  const rule = (over: object) => validateAlertRules({ rules: [{ ...base, ...over }] }, 'x')[0]!;

  it('renders each kind as the PromQL Prometheus evaluates', () => {
    expect(toPromQL(compileRule(rule({}), SERVICES))).toBe('(max by (service, dependency) (jamey_circuit_breaker_state{state="open"})) == 1');
    expect(toPromQL(compileRule(rule({ kind: 'consumer_lag', threshold: 1000, services: ['audit'] }), SERVICES))).toBe(
      '(max by (service, group, topic) (jamey_kafka_consumer_lag_messages{service=~"audit"})) > 1000',
    );
    expect(toPromQL(compileRule(rule({ kind: 'dead_letter_growth', window: '10m', threshold: 0 }), SERVICES))).toBe(
      '(sum by (service, group, topic) (increase(jamey_kafka_dead_letters_total[10m]))) > 0',
    );
    expect(toPromQL(compileRule(rule({ kind: 'service_not_ready' }), SERVICES))).toBe(
      '((min by (service) (jamey_readiness_check_up{check=~"database|shutdown"})) == 0) or ((min by (service) (up{service=~"gateway|memory|consciousness|soul|audit|telemetry"})) == 0)',
    );
    expect(toPromQL(compileRule(rule({ kind: 'latency', window: '5m', threshold: 0.5 }), SERVICES))).toBe(
      '(histogram_quantile(0.99, (sum by (service, le) (rate(rpc_server_call_duration_seconds_bucket[5m]))) or (sum by (service, le) (rate(http_server_request_duration_seconds_bucket[5m]))))) > 0.5',
    );
    expect(toPromQL(compileRule(rule({ kind: 'error_rate', window: '5m', threshold: 0.05, minRequestRate: 1 }), SERVICES))).toBe(
      '((((sum by (service) (rate(rpc_server_call_duration_seconds_count{code=~"UNKNOWN|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED|INTERNAL|UNAVAILABLE|DATA_LOSS"}[5m]))) or (sum by (service) (rate(http_server_request_duration_seconds_count{status_code=~"5.."}[5m])))) / ((sum by (service) (rate(rpc_server_call_duration_seconds_count[5m]))) or (sum by (service) (rate(http_server_request_duration_seconds_count[5m]))))) > 0.05) and (((sum by (service) (rate(rpc_server_call_duration_seconds_count[5m]))) or (sum by (service) (rate(http_server_request_duration_seconds_count[5m])))) >= 1)',
    );
  });
});

describe('renderTemplate', () => {
  it('fills labels and formats the value like Prometheus', () => {
    const labels = { service: 'memory', dependency: 'postgres' };
    expect(renderTemplate('{{ $labels.service }} -> {{$labels.dependency}}: {{ $value }}', labels, 0.5)).toBe('memory -> postgres: 0.5');
    expect(renderTemplate('{{ $value | humanizePercentage }}', labels, 0.123456)).toBe('12.35%');
    expect(renderTemplate('{{ $value | humanizeDuration }}', labels, 0.25)).toBe('250ms');
    expect(renderTemplate('{{ $value | humanizeDuration }}', labels, 90.5)).toBe('1m 30.5s');
    expect(renderTemplate('{{ $value | humanize }}', labels, 12345)).toBe('12.35k');
    expect(renderTemplate('{{ $labels.group }}', labels, 1)).toBe('');
  });
});
