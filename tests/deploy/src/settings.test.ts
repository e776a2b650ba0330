import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATUS_PAGE_PORT } from '@jamey/topology';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CallGraphFile } from '../../../deploy/scripts/render-call-graph.mjs';
import { MATRIX, ofKind, render, RELEASE, type K8sObject } from './support/render.js';
import { CHART_DIR } from './support/tools.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped JSON */
const graph = JSON.parse(readFileSync(join(CHART_DIR, 'files/call-graph.json'), 'utf8')) as CallGraphFile;
const fullname = (svc: string): string => `${RELEASE}-${svc}`;
const INGRESS_PRINCIPAL = 'cluster.local/ns/istio-ingress/sa/istio-ingressgateway';

/** ConfigMap data per service. */
const envOf = (objects: readonly K8sObject[]): Record<string, Record<string, string>> =>
  Object.fromEntries(
    ofKind(objects, 'ConfigMap')
      .filter((cm) => cm.metadata.labels?.['jamey.io/service'] !== undefined)
      .map((cm) => [cm.metadata.labels!['jamey.io/service']!, (cm as any).data as Record<string, string>]),
  );
/** The services whose ConfigMap sets a variable, with the value. */
const setting = (objects: readonly K8sObject[], name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(envOf(objects)).flatMap(([svc, data]) => (data[name] === undefined ? [] : [[svc, data[name]]])));

/** Every NetworkPolicy ingress rule and AuthorizationPolicy rule that opens the status port. */
function statusAllows(objects: readonly K8sObject[]): { networkPolicy: any[]; authorization: any[] } {
  const port = STATUS_PAGE_PORT;
  return {
    networkPolicy: ofKind(objects, 'NetworkPolicy').flatMap((np: any) =>
      (np.spec.ingress ?? []).filter((rule: any) => (rule.ports ?? []).some((p: any) => p.port === port || p.port === 'http-status')).map((rule: any) => ({ policy: np.metadata.name, rule })),
    ),
    authorization: ofKind(objects, 'AuthorizationPolicy').flatMap((ap: any) =>
      (ap.spec.rules ?? []).filter((rule: any) => (rule.to ?? []).some((t: any) => (t.operation.ports ?? []).includes(String(port)))).map((rule: any) => ({ policy: ap.metadata.name, rule })),
    ),
  };
}

const rendered = new Map<string, K8sObject[]>();
beforeAll(() => {
  rendered.set('default', render(MATRIX['default']!));
  rendered.set('status-ingress', render(MATRIX['status-ingress']!));
  rendered.set('flagger', render(MATRIX['flagger']!));
});
const get = (name: string): K8sObject[] => rendered.get(name) ?? [];

describe("telemetry's status page", () => {
  it('is a named port of telemetry only, on its container and Service, at the port libs/topology defines', () => {
    expect(graph.services['telemetry']!.ports.status).toBe(STATUS_PAGE_PORT);
    for (const [name, svc] of Object.entries(graph.services)) if (name !== 'telemetry') expect(svc.ports.status, name).toBeUndefined();
    const objects = get('default');
    const containers = ofKind(objects, 'Deployment').flatMap((d: any) => d.spec.template.spec.containers.map((c: any) => [d.metadata.labels['jamey.io/service'], c]));
    for (const [svc, c] of containers) {
      const status = (c.ports as any[]).filter((p) => p.name === 'http-status');
      expect(status, svc).toEqual(svc === 'telemetry' ? [{ name: 'http-status', containerPort: STATUS_PAGE_PORT, protocol: 'TCP' }] : []);
      // Probes stay on the gRPC health check of the main port.
      if (svc === 'telemetry') for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(c[probe].grpc, probe).toEqual({ port: graph.services['telemetry']!.ports.main });
    }
    const services = ofKind(objects, 'Service').map((s: any) => [s.metadata.name, (s.spec.ports as any[]).filter((p) => p.name === 'http-status')]);
    for (const [name, ports] of services) {
      expect(ports, name).toEqual(name === fullname('telemetry') ? [{ name: 'http-status', port: STATUS_PAGE_PORT, targetPort: 'http-status', protocol: 'TCP', appProtocol: 'http' }] : []);
    }
  });

  it('tells telemetry its port and the gateway where GET /status redirects, each in its own ConfigMap', () => {
    expect(setting(get('default'), 'TELEMETRY_STATUS_PORT')).toEqual({ telemetry: String(STATUS_PAGE_PORT) });
    // Default: where the port-forward of NOTES.txt puts the page.
    expect(setting(get('default'), 'TELEMETRY_STATUS_URL')).toEqual({ gateway: `http://127.0.0.1:${STATUS_PAGE_PORT}/` });
    expect(setting(get('status-ingress'), 'TELEMETRY_STATUS_URL')).toEqual({ gateway: 'https://jamey.example.org/status/' });
    // A different URL is a different ConfigMap, so the gateway's pods roll.
    const checksum = (objects: K8sObject[]) => (ofKind(objects, 'Deployment').find((d) => d.metadata.name === fullname('gateway'))!.spec as any).template.metadata.annotations['checksum/config'];
    expect(checksum(get('status-ingress'))).not.toBe(checksum(get('default')));
  });

  it('is reachable by nothing in the cluster by default (port-forward needs no allow), and not routed', () => {
    expect(statusAllows(get('default'))).toEqual({ networkPolicy: [], authorization: [] });
    const ingress = ofKind(get('default'), 'VirtualService').filter((v: any) => (v.spec.gateways ?? []).length > 0);
    expect(ingress).toHaveLength(1);
    expect(ingress[0]!.spec!['http'] as any[]).not.toContainEqual(expect.objectContaining({ name: 'status-page' }));
  });

  it('with statusPage.ingress.enabled: /status/ on the ingress, and only the ingress gateway may GET it', () => {
    const objects = get('status-ingress');
    const { networkPolicy, authorization } = statusAllows(objects);
    expect(networkPolicy).toEqual([
      {
        policy: fullname('telemetry'),
        rule: {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-ingress' } }, podSelector: { matchLabels: { istio: 'ingressgateway' } } }],
          ports: [{ port: STATUS_PAGE_PORT, protocol: 'TCP' }],
        },
      },
    ]);
    expect(authorization).toEqual([
      {
        policy: fullname('telemetry'),
        rule: { from: [{ source: { principals: [INGRESS_PRINCIPAL] } }], to: [{ operation: { ports: [String(STATUS_PAGE_PORT)], methods: ['GET', 'HEAD'] } }] },
      },
    ]);
    const vs = ofKind(objects, 'VirtualService').find((v: any) => (v.spec.gateways ?? []).length > 0) as any;
    const names = (vs.spec.http as any[]).map((r) => r.name);
    // After the canary-header routes (which stay first), before the gateway's catch-all routes.
    expect(names).toEqual(['canary-header-reads', 'canary-header-writes', 'status-page', 'reads', 'writes']);
    const route = vs.spec.http[2];
    expect(route.match).toEqual([{ uri: { prefix: '/status/' }, method: { regex: '^(GET|HEAD)$' } }]);
    expect(route.rewrite).toEqual({ uri: '/' });
    expect(route.route).toEqual([{ destination: { host: `${fullname('telemetry')}.jamey.svc.cluster.local`, subset: 'stable', port: { number: STATUS_PAGE_PORT } }, weight: 100 }]);
  });

  it('splits the status route like the rest of telemetry when it runs a canary', () => {
    const objects = render([...MATRIX['status-ingress']!, '--set', 'progressiveDelivery.mode=helm', '--set', 'services.telemetry.canary.enabled=true', '--set', 'services.telemetry.canary.weight=20']);
    const vs = ofKind(objects, 'VirtualService').find((v: any) => (v.spec.gateways ?? []).length > 0) as any;
    const route = (vs.spec.http as any[]).find((r) => r.name === 'status-page');
    expect(route.route.map((d: any) => [d.destination.subset, d.destination.port.number, d.weight])).toEqual([
      ['stable', STATUS_PAGE_PORT, 80],
      ['canary', STATUS_PAGE_PORT, 20],
    ]);
  });

  it('refuses statusPage.ingress.enabled where no ingress route can carry it', () => {
    expect(() => render(['--set', 'statusPage.ingress.enabled=true', '--set', 'istio.enabled=false'])).toThrow(/needs istio.enabled and istio.ingress.enabled/);
    expect(() => render(['--set', 'statusPage.ingress.enabled=true', '--set', 'istio.ingress.enabled=false'])).toThrow(/needs istio.enabled and istio.ingress.enabled/);
    expect(() => render(['--set', 'statusPage.ingress.enabled=true', '--set', 'progressiveDelivery.mode=flagger'])).toThrow(/Flagger owns the ingress routes/);
  });
});

describe('service settings', () => {
  it('leaves audit retention and the Φ interval to the services unless set', () => {
    for (const name of ['AUDIT_RETENTION_DAYS', 'CONSCIOUSNESS_PHI_INTERVAL_MS']) {
      expect(setting(get('default'), name), name).toEqual({});
      expect(setting(get('flagger'), name), name).toEqual({});
    }
  });

  it('renders audit retention into audit only and the Φ interval into consciousness only', () => {
    expect(setting(get('status-ingress'), 'AUDIT_RETENTION_DAYS')).toEqual({ audit: '90' });
    expect(setting(get('status-ingress'), 'CONSCIOUSNESS_PHI_INTERVAL_MS')).toEqual({ consciousness: '30000' });
  });

  it("sets the gateway's rate limit and the audit log's origin, each in its own service only", () => {
    const objects = render(['--set', 'services.gateway.config.rateLimit.max=120', '--set', 'services.gateway.config.rateLimit.windowMs=1000', '--set', 'services.audit.config.logOrigin=audit.jamey.example.org']);
    expect(setting(objects, 'JAMEY_RATE_LIMIT_MAX')).toEqual({ gateway: '120' });
    expect(setting(objects, 'JAMEY_RATE_LIMIT_WINDOW_MS')).toEqual({ gateway: '1000' });
    expect(setting(objects, 'AUDIT_LOG_ORIGIN')).toEqual({ audit: 'audit.jamey.example.org' });
    // Defaults are the services' own defaults.
    expect(setting(get('default'), 'JAMEY_RATE_LIMIT_MAX')).toEqual({ gateway: '600' });
    expect(setting(get('default'), 'AUDIT_LOG_ORIGIN')).toEqual({ audit: 'jamey.io/audit' });
  });

  it("takes a webhook URL that carries a token from a Secret, into telemetry's container only", () => {
    const objects = render([
      '--set', 'services.telemetry.secretEnv[0].name=TELEMETRY_ALERT_WEBHOOK_URL',
      '--set', 'services.telemetry.secretEnv[0].secretName=jamey-alert-webhook',
      '--set', 'services.telemetry.secretEnv[0].key=url',
    ]);
    expect(setting(objects, 'TELEMETRY_ALERT_WEBHOOK_URL')).toEqual({});
    const fromSecret = ofKind(objects, 'Deployment').flatMap((d: any) =>
      (d.spec.template.spec.containers[0].env as any[]).filter((e) => e.name === 'TELEMETRY_ALERT_WEBHOOK_URL').map((e) => [d.metadata.name, e.valueFrom]),
    );
    expect(fromSecret).toEqual([[fullname('telemetry'), { secretKeyRef: { name: 'jamey-alert-webhook', key: 'url' } }]]);
  });
});
