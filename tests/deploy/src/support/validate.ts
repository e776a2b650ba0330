import { Ajv, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from './render.js';
import { REPO_ROOT, SCHEMAS_DIR } from './tools.js';

const require = createRequire(import.meta.url);

type SchemaValidator = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string; keyword: string; params?: unknown }[] | null };

/** Core kinds: the compiled upstream OpenAPI validators shipped in kubernetes-models (pinned). */
const CORE_SCHEMAS: Readonly<Record<string, string>> = {
  'v1/ConfigMap': 'kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap.js',
  'v1/Service': 'kubernetes-models/_schemas/IoK8sApiCoreV1Service.js',
  'v1/ServiceAccount': 'kubernetes-models/_schemas/IoK8sApiCoreV1ServiceAccount.js',
  'v1/Secret': 'kubernetes-models/_schemas/IoK8sApiCoreV1Secret.js',
  'v1/Pod': 'kubernetes-models/_schemas/IoK8sApiCoreV1Pod.js',
  'v1/Namespace': 'kubernetes-models/_schemas/IoK8sApiCoreV1Namespace.js',
  'apps/v1/Deployment': 'kubernetes-models/_schemas/IoK8sApiAppsV1Deployment.js',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/_schemas/IoK8sApiAutoscalingV2HorizontalPodAutoscaler.js',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/_schemas/IoK8sApiPolicyV1PodDisruptionBudget.js',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/_schemas/IoK8sApiNetworkingV1NetworkPolicy.js',
  'monitoring.coreos.com/v1/ServiceMonitor': '@kubernetes-models/prometheus-operator/_schemas/MonitoringCoreosComV1ServiceMonitor.js',
  'monitoring.coreos.com/v1/PrometheusRule': '@kubernetes-models/prometheus-operator/_schemas/MonitoringCoreosComV1PrometheusRule.js',
};

/**
 * Loads a compiled schema by file. The packages' `exports` do not list `_schemas/`, so the file
 * is taken from the root node_modules, where npm puts root devDependencies.
 */
function loadSchema(spec: string): SchemaValidator {
  return (require(join(REPO_ROOT, 'node_modules', spec)) as { validate: SchemaValidator }).validate;
}

/**
 * The compiled validators never look at a property their schema does not declare, so an
 * unknown field passes silently. Wrapping the object in a Proxy that records every property
 * the validator reads finds them: whatever was never read is not in the schema. Maps
 * (additionalProperties) are iterated by the validator, so their keys count as read.
 */
function validateStrict(validate: SchemaValidator, data: unknown): string[] {
  const read = new Map<string, Set<string>>();
  const wrap = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const seen = read.get(path) ?? new Set<string>();
    read.set(path, seen);
    return new Proxy(value as object, {
      get(target, key, receiver) {
        const child = Reflect.get(target, key, receiver) as unknown;
        if (typeof key !== 'string') return child;
        seen.add(key);
        return Object.prototype.hasOwnProperty.call(target, key) ? wrap(child, `${path}/${key}`) : child;
      },
      ownKeys(target) {
        for (const key of Reflect.ownKeys(target)) if (typeof key === 'string') seen.add(key);
        return Reflect.ownKeys(target);
      },
    });
  };
  const problems: string[] = [];
  if (!validate(wrap(data, ''))) {
    for (const e of validate.errors ?? []) problems.push(`${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params ?? {})}`);
  }
  const walk = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object') return;
    const seen = read.get(path);
    for (const [key, child] of Object.entries(value)) {
      if (Array.isArray(value) || seen?.has(key)) walk(child, `${path}/${key}`);
      else problems.push(`${path}/${key}: unknown field`);
    }
  };
  walk(data, '');
  return problems;
}

/** Kubernetes CEL rules we can check offline: durations. Other rules are cluster-side. */
const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

function addKubernetesKeywords(ajv: Ajv): void {
  ajv.addKeyword({
    keyword: 'x-kubernetes-validations',
    schemaType: 'array',
    validate: (rules: { rule: string }[], data: unknown) =>
      rules.every((r) => !/duration\(self\)/.test(r.rule) || (typeof data === 'string' && DURATION.test(data))),
  });
}

/**
 * Injects `additionalProperties: false` wherever a schema lists properties and says nothing
 * else, unless it preserves unknown fields: the CRD schemas would otherwise accept typos.
 */
export function closeSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, closeSchema(v)])) : closeSchema(value);
  if (out['properties'] && out['additionalProperties'] === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out['additionalProperties'] = false;
  }
  return out;
}

interface Crd {
  spec: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] };
}

function loadCrds(ajv: Ajv, file: string, into: Map<string, ValidateFunction>): void {
  for (const doc of parseAllDocuments(readFileSync(join(SCHEMAS_DIR, file), 'utf8'))) {
    const crd = doc.toJS() as Crd | null;
    if (crd?.spec?.versions === undefined) continue;
    for (const version of crd.spec.versions) {
      const schema = closeSchema(version.schema.openAPIV3Schema) as Record<string, unknown>;
      // Object metadata is checked with the core ObjectMeta schema; the CRD covers the rest.
      const properties = { ...(schema['properties'] as object), apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } };
      into.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile({ ...schema, properties }));
    }
  }
}

let crdValidators: Map<string, ValidateFunction> | undefined;

function crds(): Map<string, ValidateFunction> {
  if (crdValidators) return crdValidators;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  addKubernetesKeywords(ajv);
  const map = new Map<string, ValidateFunction>();
  loadCrds(ajv, 'istio-crds.yaml', map);
  loadCrds(ajv, 'flagger-crds.yaml', map);
  crdValidators = map;
  return map;
}

const objectMeta = (): SchemaValidator => loadSchema('@kubernetes-models/apimachinery/_schemas/IoK8sApimachineryPkgApisMetaV1ObjectMeta.js');

/** Every kind the validator knows. */
export function knownKinds(): string[] {
  return [...Object.keys(CORE_SCHEMAS), ...crds().keys()];
}

/** Problems of one object against its authoritative schema, unknown fields included; [] when valid. */
export function validateObject(object: K8sObject): string[] {
  const key = `${object.apiVersion}/${object.kind}`;
  const core = CORE_SCHEMAS[key];
  if (core !== undefined) {
    return validateStrict(loadSchema(core), object);
  }
  const crd = crds().get(key);
  if (crd === undefined) return [`no schema for ${key}: every rendered kind must be validated`];
  const problems = validateStrict(objectMeta(), object.metadata).map((p) => `metadata${p}`);
  if (!crd(object)) {
    for (const e of crd.errors ?? []) problems.push(`${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
  }
  return problems;
}

/** A validator for skaffold.yaml from the skaffold JSON schema. */
export function skaffoldValidator(): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const schema = JSON.parse(readFileSync(join(SCHEMAS_DIR, 'skaffold-v4beta14.json'), 'utf8')) as Record<string, unknown>;
  delete schema['$schema'];
  return ajv.compile(schema);
}
