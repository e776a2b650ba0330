import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alertRulesText, ALERT_RULES_JSON, renderAlertRules } from '../../../deploy/scripts/render-alert-rules.mjs';
import { callGraphText, CALL_GRAPH_FILE } from '../../../deploy/scripts/render-call-graph.mjs';
import { render, ofKind } from './support/render.js';
import { CHART_DIR, KUBE_VERSION, REPO_ROOT, run, tools } from './support/tools.js';
import { validateObject } from './support/validate.js';

describe('the chart', () => {
  it('passes helm lint --strict, with default and production values', () => {
    const { helm } = tools();
    expect(run(helm, ['lint', '--strict', CHART_DIR, '--kube-version', KUBE_VERSION])).toMatch(/0 chart\(s\) failed/);
    expect(run(helm, ['lint', '--strict', CHART_DIR, '--kube-version', KUBE_VERSION, '-f', join(CHART_DIR, 'values-production.yaml')])).toMatch(/0 chart\(s\) failed/);
  });

  it('files/call-graph.json is the one generated from libs/topology and the protos', () => {
    expect(readFileSync(CALL_GRAPH_FILE, 'utf8')).toBe(callGraphText());
  });

  it('files/alert-rules.json is the one rendered from apps/telemetry/alert-rules.yaml', () => {
    expect(readFileSync(ALERT_RULES_JSON, 'utf8')).toBe(alertRulesText());
  });

  it('renders the PrometheusRule only when asked, with exactly the rendered rule groups', () => {
    expect(ofKind(render([]), 'PrometheusRule')).toEqual([]);
    const [rule, ...more] = ofKind(render(['--set', 'monitoring.prometheusRule.enabled=true', '--set', 'monitoring.prometheusRule.labels.release=kube-prometheus-stack']), 'PrometheusRule');
    expect(more).toEqual([]);
    expect(rule!.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', 'app.kubernetes.io/part-of': 'jamey' });
    const groups = (rule!.spec as { groups: { rules: { alert: string; annotations: Record<string, string> }[] }[] }).groups;
    expect(groups).toEqual(renderAlertRules().groups);
    // Prometheus templates in the annotations survive Helm untouched.
    expect(groups[0]!.rules.find((r) => r.alert === 'JameyServiceNotReady')!.annotations['summary']).toBe('{{ $labels.service }} is not ready');
    expect(validateObject(rule!)).toEqual([]);
  });

  it('refuses Kubernetes older than 1.27', () => {
    const { helm } = tools();
    expect(() => run(helm, ['template', 'jamey', CHART_DIR, '--kube-version', '1.26.0'])).toThrow(/kubeVersion|incompatible/);
  });

  it('documents every key of values.yaml with a comment', () => {
    const lines = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8').split('\n');
    const undocumented: string[] = [];
    lines.forEach((line, i) => {
      if (!/^\s*[A-Za-z0-9_.-]+:/.test(line)) return;
      // A key is documented by a comment right above it, or above its parent block.
      let j = i - 1;
      while (j >= 0 && lines[j]!.trim() === '') j -= 1;
      const above = lines[j] ?? '';
      const indent = line.search(/\S/);
      const parentDocumented = lines.slice(0, i).reverse().some((l) => l.trim().startsWith('#') && l.search(/\S/) < indent);
      if (!above.trim().startsWith('#') && !/:\s*$/.test(above) && !parentDocumented) undocumented.push(`${i + 1}: ${line.trim()}`);
    });
    expect(undocumented).toEqual([]);
  });

  it('the values schema is strict: additionalProperties false on every object with properties', () => {
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as unknown;
    const open: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (n['properties'] !== undefined && n['additionalProperties'] !== false) open.push(path || '/');
      for (const [k, v] of Object.entries(n)) walk(v, `${path}/${k}`);
    };
    walk(schema, '');
    expect(open).toEqual([]);
    const weight = (schema as { properties: { services: { properties: Record<string, { properties: { canary: { properties: { weight: unknown } } } }> } } })
      .properties.services.properties['memory']!.properties.canary.properties.weight;
    expect(weight).toMatchObject({ type: 'integer', minimum: 0, maximum: 100 });
  });

  it('renders the Chart.yaml kubeVersion from the issue', () => {
    expect((parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { kubeVersion: string }).kubeVersion).toBe('>=1.27.0-0');
    expect(ofKind(render([]), 'Deployment')).toHaveLength(6);
    expect(REPO_ROOT).toMatch(/\/$/);
  });
});

describe('broken values fail the schema', () => {
  const cases: Record<string, string[]> = {
    'weight above 100': ['--set', 'services.memory.canary.weight=101'],
    'negative weight': ['--set', 'services.memory.canary.weight=-1'],
    'fractional weight': ['--set', 'services.memory.canary.weight=12.5'],
    'unknown mode': ['--set', 'progressiveDelivery.mode=argo'],
    'unknown service': ['--set', 'services.brain.enabled=true'],
    'typo in a service key': ['--set', 'services.memory.replicaz=3'],
    'typo in defaults': ['--set', 'defaults.autoscaling.enable=true'],
    'bad log level': ['--set', 'defaults.logLevel=verbose'],
    'bad digest': ['--set', 'services.memory.image.digest=sha256:abc'],
    'bad pull policy': ['--set', 'defaults.image.pullPolicy=Sometimes'],
    'bad kafka brokers': ['--set', 'infrastructure.kafka.brokers=kafka'],
    'bad postgres mode': ['--set', 'infrastructure.postgres.mode=rds'],
    'negative audit retention': ['--set', 'services.audit.config.retentionDays=-1'],
    'audit retention above 100 years': ['--set', 'services.audit.config.retentionDays=36501'],
    'fractional audit retention': ['--set', 'services.audit.config.retentionDays=1.5'],
    'audit log origin with a space': ['--set', 'services.audit.config.logOrigin=my log'],
    'negative Φ interval': ['--set', 'services.consciousness.config.phiIntervalMs=-5'],
    'Φ interval as text': ['--set-string', 'services.consciousness.config.phiIntervalMs=10s'],
    'Φ interval on another service': ['--set', 'services.memory.config.phiIntervalMs=5000'],
    'retention on another service': ['--set', 'services.telemetry.config.retentionDays=30'],
    'status page URL that is not http': ['--set', 'statusPage.url=ftp://status.example.org/'],
    'typo in statusPage': ['--set', 'statusPage.ingres.enabled=true'],
    'rate limit of zero': ['--set', 'services.gateway.config.rateLimit.max=0'],
    'rate-limit window above a day': ['--set', 'services.gateway.config.rateLimit.windowMs=86400001'],
  };
  for (const [name, args] of Object.entries(cases)) {
    it(name, () => {
      expect(() => render(args)).toThrow(/schema/);
    });
  }
});
