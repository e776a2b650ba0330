import { beforeAll, expect, it } from 'vitest';
import { MATRIX, render, type K8sObject } from './support/render.js';
import { describeWithSchemas } from './support/tools.js';
import { validateObject } from './support/validate.js';

describeWithSchemas('every rendered object matches its authoritative schema (unknown fields rejected)', () => {
  const rendered = new Map<string, K8sObject[]>();
  beforeAll(() => {
    for (const [name, args] of Object.entries(MATRIX)) rendered.set(name, render(args));
  });

  for (const name of Object.keys(MATRIX)) {
    it(`matrix: ${name}`, () => {
      const objects = rendered.get(name) ?? [];
      expect(objects.length).toBeGreaterThan(20);
      const problems = objects.flatMap((o) => validateObject(o).map((p) => `${o.kind}/${o.metadata.name}: ${p}`));
      expect(problems).toEqual([]);
    });
  }

  it('rejects a typo in a core kind, in an Istio kind and in a Flagger kind', () => {
    const objects = [...(rendered.get('default') ?? []), ...(rendered.get('flagger') ?? [])];
    const pick = (kind: string) => structuredClone(objects.find((o) => o.kind === kind)) as K8sObject;
    const deployment = pick('Deployment') as unknown as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
    deployment.spec.template.spec.containers[0]!['imagePullPolicyy'] = 'Always';
    expect(validateObject(deployment as unknown as K8sObject).join()).toMatch(/imagePullPolicyy: unknown field/);
    const vs = pick('VirtualService');
    (vs.spec as { http: Record<string, unknown>[] }).http[0]!['retry'] = { attempts: 1 };
    expect(validateObject(vs).join()).toMatch(/additionalProperties|must NOT have additional properties/);
    const dr = pick('DestinationRule');
    (dr.spec as { trafficPolicy: { outlierDetection: Record<string, unknown> } }).trafficPolicy.outlierDetection['interval'] = '10 seconds';
    expect(validateObject(dr)).not.toEqual([]);
    const canary = pick('Canary');
    (canary.spec as Record<string, unknown>)['analysys'] = {};
    expect(validateObject(canary)).not.toEqual([]);
    const hpa = pick('HorizontalPodAutoscaler');
    (hpa.spec as Record<string, unknown>)['minReplicas'] = 'two';
    expect(validateObject(hpa)).not.toEqual([]);
    expect(validateObject({ apiVersion: 'example.com/v1', kind: 'Unknown', metadata: { name: 'x' } })).toEqual([
      'no schema for example.com/v1/Unknown: every rendered kind must be validated',
    ]);
  });
});
