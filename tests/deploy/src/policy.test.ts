import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CallGraphFile } from '../../../deploy/scripts/render-call-graph.mjs';
import { MATRIX, NAMESPACE, ofKind, render, RELEASE, type K8sObject } from './support/render.js';
import { CHART_DIR } from './support/tools.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped JSON */
const graph = JSON.parse(readFileSync(join(CHART_DIR, 'files/call-graph.json'), 'utf8')) as CallGraphFile;
const fullname = (svc: string): string => `${RELEASE}-${svc}`;
const host = (svc: string): string => `${fullname(svc)}.${NAMESPACE}.svc.cluster.local`;
const principal = (sa: string): string => `cluster.local/ns/${NAMESPACE}/sa/${sa}`;
const edgeKey = (e: { from: string; to: string }): string => `${e.from}->${e.to}`;
const callEdges = graph.edges.map(edgeKey).sort();
const healthEdges = graph.healthChecks.map(edgeKey);
const testEdges = ['test->gateway', 'test->memory'];
const budgets: Record<string, number> = { gateway: 5000, consciousness: 1500 };
const ms = (d: string): number => {
  const m = /^(\d+)(ms|s)$/.exec(d);
  if (!m) throw new Error(`unexpected duration ${d}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
};
const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const rendered = new Map<string, K8sObject[]>();
beforeAll(() => {
  for (const [name, args] of Object.entries(MATRIX)) rendered.set(name, render(args));
});
const get = (name: string): K8sObject[] => rendered.get(name) ?? [];

describe.each(Object.keys(MATRIX))('policy checks: %s', (matrix) => {
  it('hardens every container and pod', () => {
    const problems: string[] = [];
    for (const o of get(matrix).filter((x) => x.kind === 'Deployment' || x.kind === 'Pod')) {
      const pod: any = o.kind === 'Pod' ? o.spec : (o.spec as any).template.spec;
      const id = `${o.kind}/${o.metadata.name}`;
      if (pod.automountServiceAccountToken !== false) problems.push(`${id}: token automounted`);
      if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${id}: pod seccomp`);
      for (const c of pod.containers as any[]) {
        const sc = c.securityContext ?? {};
        const uid = sc.runAsUser ?? pod.securityContext?.runAsUser;
        if (!(uid >= 1000 && uid !== 1337)) problems.push(`${id}/${c.name}: uid ${uid}`);
        if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) problems.push(`${id}/${c.name}: runAsNonRoot`);
        if (sc.readOnlyRootFilesystem !== true) problems.push(`${id}/${c.name}: writable root fs`);
        if (sc.allowPrivilegeEscalation !== false) problems.push(`${id}/${c.name}: privilege escalation`);
        if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${id}/${c.name}: capabilities`);
        if (sc.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${id}/${c.name}: seccomp`);
        for (const k of ['cpu', 'memory']) {
          if (!c.resources?.requests?.[k] || !c.resources?.limits?.[k]) problems.push(`${id}/${c.name}: ${k} requests/limits`);
        }
        if (o.kind !== 'Deployment') continue;
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
          const p = c[probe];
          const port = p?.grpc?.port ?? p?.httpGet?.port;
          if (!Number.isInteger(port)) problems.push(`${id}/${c.name}: ${probe} needs an integer port`);
        }
        const svc = o.metadata.labels?.['jamey.io/service'] ?? '';
        if (graph.services[svc]?.protocol === 'grpc' && c.readinessProbe?.grpc === undefined) problems.push(`${id}: gRPC probe expected`);
        const sleep = Number(c.lifecycle?.preStop?.exec?.command?.[1]);
        const env = get(matrix).find((x) => x.kind === 'ConfigMap' && x.metadata.name === fullname(svc)) as any;
        const grace = Number(env?.data?.SHUTDOWN_GRACE_MS) / 1000;
        if (!(sleep > 0) || !(pod.terminationGracePeriodSeconds >= sleep + grace + 5)) problems.push(`${id}: preStop ${sleep}s + drain ${grace}s + 5s > grace ${pod.terminationGracePeriodSeconds}s`);
        const annotations = (o.spec as any).template.metadata.annotations ?? {};
        if (!annotations['checksum/config'] || !annotations['checksum/secret-refs']) problems.push(`${id}: checksum annotations`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("mounts each service's own service-token key, and nobody else's, with both key variables", () => {
    const problems: string[] = [];
    const deployments = get(matrix).filter((x) => x.kind === 'Deployment');
    expect(deployments.length).toBeGreaterThan(0);
    for (const o of deployments) {
      const pod: any = (o.spec as any).template.spec;
      const svc = o.metadata.labels?.['jamey.io/service'] ?? '';
      const volume = (pod.volumes as any[]).find((v) => v.name === 'service-auth');
      const keys = (volume?.secret?.items ?? []).map((i: any) => `${i.key}->${i.path}`).sort();
      if (JSON.stringify(keys) !== JSON.stringify([`${svc}.private.jwk->signing-key.jwk`, 'service-keys.jwks->service-keys.jwks'].sort())) {
        problems.push(`Deployment/${o.metadata.name}: service-auth items ${keys.join(', ')}`);
      }
      for (const c of pod.containers as any[]) {
        const mount = (c.volumeMounts ?? []).find((m: any) => m.name === 'service-auth');
        if (mount?.readOnly !== true || mount.subPath !== undefined) problems.push(`Deployment/${o.metadata.name}: service-auth mount`);
        const env = Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value]));
        if (env['JAMEY_SERVICE_SIGNING_KEY_FILE'] !== `${mount?.mountPath}/signing-key.jwk`) problems.push(`Deployment/${o.metadata.name}: signing key file`);
        if (env['JAMEY_SERVICE_PUBLIC_KEYS_FILE'] !== `${mount?.mountPath}/service-keys.jwks`) problems.push(`Deployment/${o.metadata.name}: public keys file`);
        // Only audit holds the audit log's signing key.
        const auditMount = (c.volumeMounts ?? []).find((m: any) => m.name === 'audit-log');
        if ((svc === 'audit') !== (auditMount !== undefined)) problems.push(`Deployment/${o.metadata.name}: audit-log key mount`);
        if (svc === 'audit' && env['AUDIT_SIGNING_KEY_FILE'] !== `${auditMount?.mountPath}/signing-key.pem`) problems.push(`Deployment/${o.metadata.name}: audit signing key file`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('configures user tokens in the gateway only: issuer, one key source (a JWKS URL, or a key file from its own Secret), proxies', () => {
    const problems: string[] = [];
    const configOf = (objects: K8sObject[], svc: string): Record<string, string> =>
      ((objects.find((x) => x.kind === 'ConfigMap' && x.metadata.name === fullname(svc)) as any)?.data ?? {}) as Record<string, string>;
    const withFile = render(['--set', 'userAuth.issuer=https://idp.example.org/', '--set', 'userAuth.keyFileSecret=jamey-user-token-keys', '--set', 'userAuth.keyAlgorithm=ES256']);
    for (const o of ofKind(withFile, 'Deployment')) {
      const svc = o.metadata.labels?.['jamey.io/service'] ?? '';
      const pod: any = (o.spec as any).template.spec;
      const volume = (pod.volumes as any[]).find((v) => v.name === 'user-auth');
      for (const c of pod.containers as any[]) {
        const mount = (c.volumeMounts ?? []).find((m: any) => m.name === 'user-auth');
        const env = Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value]));
        if (svc !== 'gateway') {
          if (volume || mount || env['GATEWAY_AUTH_KEY_FILE']) problems.push(`${o.metadata.name}: user token keys outside the gateway`);
          continue;
        }
        if (volume?.secret?.secretName !== 'jamey-user-token-keys' || JSON.stringify(volume.secret.items) !== JSON.stringify([{ key: 'user-token-keys', path: 'user-token-keys' }])) {
          problems.push(`${o.metadata.name}: user-auth volume`);
        }
        if (mount?.readOnly !== true || mount.subPath !== undefined) problems.push(`${o.metadata.name}: user-auth mount`);
        if (env['GATEWAY_AUTH_KEY_FILE'] !== `${mount?.mountPath}/user-token-keys`) problems.push(`${o.metadata.name}: GATEWAY_AUTH_KEY_FILE`);
      }
    }
    expect(problems).toEqual([]);
    expect(configOf(withFile, 'gateway')).toMatchObject({
      GATEWAY_AUTH_ISSUER: 'https://idp.example.org/',
      GATEWAY_AUTH_AUDIENCE: 'jamey-api',
      GATEWAY_AUTH_KEY_ALGORITHM: 'ES256',
      GATEWAY_AUTH_CLOCK_TOLERANCE_SEC: '30',
      GATEWAY_AUTH_MAX_TOKEN_BYTES: '8192',
      // Behind the Istio sidecar, the client address is the one the ingress gateway appended.
      GATEWAY_TRUST_PROXY: '127.0.0.0/8,::1',
    });
    expect(configOf(withFile, 'gateway')['GATEWAY_AUTH_JWKS_URL']).toBeUndefined();
    for (const svc of ['memory', 'soul', 'audit']) expect(Object.keys(configOf(withFile, svc)).filter((k) => k.startsWith('GATEWAY_AUTH'))).toEqual([]);

    const production = configOf(get('production'), 'gateway');
    expect(production).toMatchObject({ GATEWAY_AUTH_JWKS_URL: 'https://login.example.com/.well-known/jwks.json', GATEWAY_CORS_ORIGINS: 'https://app.example.com' });
    expect(configOf(get('istio-off'), 'gateway')['GATEWAY_TRUST_PROXY']).toBe('false');
    expect(() => render(['--set', 'userAuth.jwksUrl=https://idp.example.org/jwks', '--set', 'userAuth.keyFileSecret=keys'])).toThrow(/not both/);
    expect(() => render(['--set', 'userAuth.jwksUrl=http://idp.example.org/jwks'])).toThrow(/jwksUrl/);
  });

  it('gives every Deployment a PDB, and an HPA or a documented reason', () => {
    const objects = get(matrix);
    const pdbs = ofKind(objects, 'PodDisruptionBudget') as any[];
    const hpas = ofKind(objects, 'HorizontalPodAutoscaler') as any[];
    const problems: string[] = [];
    for (const d of ofKind(objects, 'Deployment') as any[]) {
      const labels = d.spec.template.metadata.labels;
      const pdb = pdbs.filter((p) => matches(p.spec.selector.matchLabels, labels));
      if (pdb.length !== 1) problems.push(`${d.metadata.name}: ${pdb.length} PDBs`);
      if (pdb[0] && pdb[0].spec.unhealthyPodEvictionPolicy !== 'AlwaysAllow') problems.push(`${d.metadata.name}: PDB eviction policy`);
      const hpa = hpas.filter((h) => h.spec.scaleTargetRef.name === d.metadata.name);
      if (hpa.length === 1 && d.spec.replicas !== undefined) problems.push(`${d.metadata.name}: replicas set while an HPA scales it`);
      if (hpa.length === 0 && !d.metadata.annotations?.['jamey.io/no-hpa-reason']) problems.push(`${d.metadata.name}: no HPA and no reason`);
      for (const k of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/part-of', 'version', 'jamey.io/service']) {
        if (!labels[k]) problems.push(`${d.metadata.name}: pod label ${k}`);
      }
      const image: string = d.spec.template.spec.containers[0].image;
      if (matrix === 'production' && !/@sha256:[a-f0-9]{64}$/.test(image)) problems.push(`${d.metadata.name}: production image not pinned by digest`);
    }
    expect(problems).toEqual([]);
  });

  it('allows exactly the call-graph edges (plus health checks) in NetworkPolicies', () => {
    const nps = ofKind(get(matrix), 'NetworkPolicy') as any[];
    const deny = nps.find((n) => n.metadata.name === `${RELEASE}-jamey-default-deny` || n.metadata.name === `${RELEASE}-default-deny`);
    expect(deny?.spec).toMatchObject({ policyTypes: ['Ingress', 'Egress'] });
    expect(deny?.spec.ingress ?? []).toEqual([]);
    expect(deny?.spec.egress ?? []).toEqual([]);
    const ingress: string[] = [];
    const egress: string[] = [];
    const nameOf = (sel: any): string | undefined => sel?.matchLabels?.['jamey.io/service'] ?? (sel?.matchLabels?.['jamey.io/role'] === 'test' ? 'test' : undefined);
    for (const np of nps) {
      const self = nameOf(np.spec.podSelector);
      if (!self) continue;
      for (const rule of np.spec.ingress ?? []) for (const peer of rule.from ?? []) if (!peer.namespaceSelector && nameOf(peer.podSelector)) ingress.push(`${nameOf(peer.podSelector)}->${self}`);
      for (const rule of np.spec.egress ?? []) for (const peer of rule.to ?? []) if (!peer.namespaceSelector && nameOf(peer.podSelector)) egress.push(`${self}->${nameOf(peer.podSelector)}`);
    }
    const expected = [...callEdges, ...healthEdges, ...testEdges].sort();
    expect(ingress.sort()).toEqual(expected);
    expect(egress.sort()).toEqual(expected);
  });

  it('authorizes exactly the call-graph edges in AuthorizationPolicies, by rendered ServiceAccounts', () => {
    const objects = get(matrix);
    const aps = ofKind(objects, 'AuthorizationPolicy') as any[];
    const istio = !matrix.startsWith('istio-off');
    if (!istio) {
      expect(aps).toEqual([]);
      expect(ofKind(objects, 'PeerAuthentication')).toEqual([]);
      return;
    }
    const pa = ofKind(objects, 'PeerAuthentication') as any[];
    expect(pa.map((p) => p.spec)).toEqual([{ mtls: { mode: 'STRICT' } }]);
    expect(aps.filter((a) => Object.keys(a.spec).length === 0)).toHaveLength(1);
    const accounts = new Map(ofKind(objects, 'ServiceAccount').map((sa) => [principal(sa.metadata.name), sa.metadata.name.replace(`${RELEASE}-`, '')]));
    const edges: string[] = [];
    const problems: string[] = [];
    for (const ap of aps.filter((a) => a.spec.selector)) {
      const self = ap.spec.selector.matchLabels['jamey.io/service'];
      for (const rule of ap.spec.rules) {
        for (const p of rule.from.flatMap((f: any) => f.source.principals ?? [])) {
          const caller = accounts.get(p);
          if (caller === undefined) {
            if (!p.includes('/ns/istio-ingress/')) problems.push(`${self}: principal ${p} is no rendered ServiceAccount`);
            continue;
          }
          const edge = `${caller}->${self}`;
          edges.push(edge);
          const paths = rule.to.flatMap((t: any) => t.operation.paths ?? []);
          const healthOnly = self === 'gateway' ? ['/readyz'] : ['/grpc.health.v1.Health/Check'];
          if (callEdges.includes(edge)) expect(paths).toEqual([`/${graph.services[self]!.grpcService}/*`]);
          // Telemetry also scrapes /metrics (GET, admin port); the helm test pod only checks health.
          else if (caller === 'telemetry') {
            expect(paths).toEqual([...healthOnly, '/metrics']);
            expect(rule.to[1].operation).toEqual({ ports: [String(graph.services[self]!.ports.admin)], paths: ['/metrics'], methods: ['GET'] });
          } else expect(paths).toEqual(healthOnly);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(edges.sort()).toEqual([...callEdges, ...healthEdges, ...testEdges].sort());
  });

  it('routes with explicit retries, resolvable subsets, weights of 100 and nested budgets', () => {
    const objects = get(matrix);
    const vss = ofKind(objects, 'VirtualService') as any[];
    const drs = ofKind(objects, 'DestinationRule') as any[];
    if (matrix === 'istio-off' || matrix === 'flagger') {
      expect(vss).toEqual([]);
      expect(drs).toEqual([]);
      if (matrix === 'flagger') {
        const canaries = ofKind(objects, 'Canary') as any[];
        expect(canaries).toHaveLength(6);
        for (const c of canaries) expect(c.spec.service.retries).toEqual({ attempts: 0 });
        expect(ofKind(objects, 'Service')).toEqual([]);
      }
      return;
    }
    const services = new Set(ofKind(objects, 'Service').map((s) => `${s.metadata.name}.${NAMESPACE}.svc.cluster.local`));
    const problems: string[] = [];
    for (const vs of vss) {
      const ingress = (vs.spec.gateways ?? []).length > 0;
      if (!ingress) for (const h of vs.spec.hosts) if (!services.has(h)) problems.push(`${vs.metadata.name}: host ${h} resolves to no Service`);
      const first = vs.spec.http[0];
      if (first.match[0].headers?.['x-jamey-canary']?.exact !== 'always') problems.push(`${vs.metadata.name}: canary header route is not first`);
      for (const route of vs.spec.http) {
        const id = `${vs.metadata.name}/${route.name}`;
        const sum = route.route.reduce((n: number, d: any) => n + (d.weight ?? 0), 0);
        if (sum !== 100) problems.push(`${id}: weights sum to ${sum}`);
        for (const d of route.route) {
          const dr = drs.find((x) => x.spec.host === d.destination.host);
          if (!dr?.spec.subsets.some((s: any) => s.name === d.destination.subset)) problems.push(`${id}: subset ${d.destination.subset} of ${d.destination.host} is not defined`);
        }
        if (route.retries === undefined || route.timeout === undefined) {
          problems.push(`${id}: retries and timeout must be explicit`);
          continue;
        }
        if (ingress && route.name === 'status-page') {
          // The status page's event stream stays open: no timeout, and never retried.
          if (route.timeout !== '0s' || route.retries.attempts !== 0) problems.push(`${id}: the status page must have timeout 0s and no retries`);
          continue;
        }
        const timeout = ms(route.timeout);
        const attempts = route.retries.attempts;
        const regex: string | undefined = route.match[0].uri?.regex;
        const svc = vs.metadata.labels['jamey.io/service'];
        const g = graph.services[svc]!;
        const writes = ingress ? route.match[0].method?.regex?.includes('POST') : g.nonRetryableMethods.some((m) => regex?.includes(m));
        if (writes && attempts !== 0) problems.push(`${id}: a write is retried`);
        if (regex && g.retryableMethods.some((m) => regex.includes(m)) && writes) problems.push(`${id}: mixes reads and writes`);
        if (attempts > 0) {
          const perTry = ms(route.retries.perTryTimeout);
          if (perTry > timeout) problems.push(`${id}: perTryTimeout above timeout`);
          const connectOnly = route.retries.retryOn.split(',').every((c: string) => ['connect-failure', 'refused-stream'].includes(c));
          if (!connectOnly && (attempts + 1) * perTry > timeout) problems.push(`${id}: ${attempts + 1} tries x ${perTry}ms exceed ${timeout}ms`);
        }
        const caller: string | undefined = route.match[0].sourceLabels?.['jamey.io/service'];
        if (caller && timeout > budgets[caller]!) problems.push(`${id}: timeout ${timeout}ms exceeds ${caller}'s budget`);
        if (ingress && timeout < budgets['gateway']!) problems.push(`${id}: ingress timeout below the gateway's budget`);
        if (caller === undefined && !ingress && route.name === 'health' && attempts !== 0) problems.push(`${id}: health checks are not retried`);
      }
    }
    // consciousness's own downstream budget fits inside the gateway -> consciousness route.
    const cvs = vss.find((v) => v.metadata.name === fullname('consciousness'));
    const fromGateway = cvs.spec.http.filter((r: any) => r.match[0].sourceLabels?.['jamey.io/service'] === 'gateway');
    for (const r of fromGateway) expect(ms(r.timeout)).toBeGreaterThanOrEqual(budgets['consciousness']!);
    expect(problems).toEqual([]);
  });
});

describe('canary in helm mode at 25 %', () => {
  it('runs a canary Deployment and splits memory 75/25 with the header route first', () => {
    const objects = get('helm-canary-25');
    const canary = ofKind(objects, 'Deployment').find((d) => d.metadata.name === `${fullname('memory')}-canary`) as any;
    expect(canary.spec.selector.matchLabels.version).toBe('canary');
    const vs = ofKind(objects, 'VirtualService').find((v) => v.metadata.name === fullname('memory')) as any;
    expect(vs.spec.http[0].route).toEqual([{ destination: { host: host('memory'), subset: 'canary' }, weight: 100 }]);
    const weighted = vs.spec.http.find((r: any) => r.name === 'gateway-retryable');
    expect(weighted.route.map((d: any) => [d.destination.subset, d.weight])).toEqual([['stable', 75], ['canary', 25]]);
  });
});

describe('helm upgrade compatibility', () => {
  it('keeps every Deployment selector of the previous release', () => {
    const selectors = (objects: K8sObject[]) =>
      Object.fromEntries(ofKind(objects, 'Deployment').map((d) => [d.metadata.name, (d.spec as any).selector]));
    const previous = selectors(render(['-f', join(CHART_DIR, '../../tests/deploy/fixtures/previous-values.yaml')]));
    expect(Object.keys(previous)).toHaveLength(6);
    for (const matrix of Object.keys(MATRIX)) {
      const current = selectors(get(matrix));
      for (const [name, selector] of Object.entries(previous)) expect(current[name], `${matrix}: ${name}`).toEqual(selector);
    }
  });
});

describe('who retries', () => {
  const retriesEnv = (objects: K8sObject[]): Record<string, string | undefined> =>
    Object.fromEntries(
      ofKind(objects, 'ConfigMap')
        .filter((cm: any) => cm.data?.['JAMEY_RPC_RETRIES'] !== undefined || ['gateway', 'consciousness'].some((s) => cm.metadata.name === fullname(s)))
        .map((cm: any) => [cm.metadata.name, cm.data?.['JAMEY_RPC_RETRIES']]),
    );

  it('leaves retries to Istio when it routes, and to the application otherwise, never both', () => {
    for (const [name, expected] of [
      ['default', 'false'],
      ['istio-off', 'true'],
      ['flagger', 'true'],
    ] as const) {
      const env = retriesEnv(get(name));
      expect(Object.keys(env).sort(), name).toEqual([fullname('consciousness'), fullname('gateway')].sort());
      for (const [configMap, value] of Object.entries(env)) expect(value, `${name} ${configMap}`).toBe(expected);
    }
  });
});
