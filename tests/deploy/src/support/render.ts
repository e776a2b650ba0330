import { parseAllDocuments } from 'yaml';
import { CHART_DIR, KUBE_VERSION, run, tools } from './tools.js';

/** One rendered Kubernetes object. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The values matrix of issue 6: each entry is extra `helm template` arguments. */
export const MATRIX: Readonly<Record<string, readonly string[]>> = Object.freeze({
  default: [],
  'istio-off': ['--set', 'istio.enabled=false'],
  'helm-canary-25': ['--set', 'progressiveDelivery.mode=helm', '--set', 'services.memory.canary.enabled=true', '--set', 'services.memory.canary.weight=25'],
  flagger: ['--set', 'progressiveDelivery.mode=flagger'],
  'hpa-off': ['--set', 'defaults.autoscaling.enabled=false'],
  production: ['-f', `${CHART_DIR}/values-production.yaml`],
  // The opt-in settings: the status page on the ingress, audit retention, the Φ interval.
  'status-ingress': [
    '--set', 'statusPage.ingress.enabled=true',
    '--set', 'statusPage.url=https://jamey.example.org/status/',
    '--set', 'services.audit.config.retentionDays=90',
    '--set', 'services.consciousness.config.phiIntervalMs=30000',
  ],
});

export const RELEASE = 'jamey';
export const NAMESPACE = 'jamey';

/** Parses a multi-document YAML stream into objects, failing on any YAML error. */
export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

/** `helm template` with the given extra arguments, parsed. */
export function render(args: readonly string[], options: { release?: string; namespace?: string; chart?: string } = {}): K8sObject[] {
  const { helm } = tools();
  const out = run(helm, [
    'template',
    options.release ?? RELEASE,
    options.chart ?? CHART_DIR,
    '--namespace',
    options.namespace ?? NAMESPACE,
    '--kube-version',
    KUBE_VERSION,
    ...args,
  ]);
  return parseObjects(out);
}

/** The objects of one kind. */
export const ofKind = (objects: readonly K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);
