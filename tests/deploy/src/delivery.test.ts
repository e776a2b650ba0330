import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planCanary } from '../../../deploy/scripts/canary.mjs';
import { ofKind, parseObjects, render, type K8sObject } from './support/render.js';
import { describeWithSchemas, REPO_ROOT, run, tools } from './support/tools.js';
import { skaffoldValidator, validateObject } from './support/validate.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML is untyped */
const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');
const SERVICES = ['gateway', 'memory', 'consciousness', 'soul', 'audit', 'telemetry'];

describeWithSchemas('skaffold.yaml', () => {
  const skaffold = parse(read('skaffold.yaml')) as any;

  it('matches the skaffold v4beta14 JSON schema', () => {
    const validate = skaffoldValidator();
    expect(validate(skaffold), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...skaffold, deploy: { helm: { releasez: [] } } })).toBe(false);
  });

  it('builds the six services from the shared Dockerfile and sets their images', () => {
    expect(skaffold.apiVersion).toBe('skaffold/v4beta14');
    const artifacts = skaffold.build.artifacts as any[];
    expect(artifacts.map((a) => a.docker.buildArgs.SERVICE).sort()).toEqual([...SERVICES].sort());
    for (const a of artifacts) expect(a.docker.dockerfile).toBe('deploy/Dockerfile');
    const templates = skaffold.deploy.helm.releases[0].setValueTemplates as Record<string, string>;
    for (const s of SERVICES) for (const k of ['registry', 'repository', 'tag']) expect(templates[`services.${s}.image.${k}`]).toMatch(/\{\{\.IMAGE_/);
    expect((skaffold.profiles as any[]).map((p) => p.name)).toEqual(['dev', 'canary', 'flagger', 'ci']);
    expect((skaffold.portForward as any[]).map((p) => p.localPort)).toEqual([8080, 16686, 9090]);
  });

  it('every profile renders the chart with its values', () => {
    const base = skaffold.deploy.helm.releases[0];
    const sample: Record<string, string> = { registry: 'registry.example.com', repository: 'jamey/x', tag: 'abc123' };
    const templated = Object.keys(base.setValueTemplates).flatMap((k) => ['--set-string', `${k}=${sample[k.split('.').pop()!]}`]);
    for (const profile of [undefined, ...(skaffold.profiles as any[])]) {
      const values = { ...base.setValues };
      for (const patch of profile?.patches ?? []) values[patch.path.split('/').pop()] = patch.value;
      const args = [...templated, ...Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${String(v)}`])];
      const objects = render(args);
      expect(objects.flatMap((o) => validateObject(o))).toEqual([]);
    }
  });
});

describeWithSchemas('istio/ namespace-level files', () => {
  it('validate against their schemas', () => {
    for (const file of ['istio/namespace.yaml', 'istio/telemetry.yaml']) {
      const objects = parseObjects(read(file));
      expect(objects.length).toBe(1);
      expect(objects.flatMap((o) => validateObject(o))).toEqual([]);
    }
    // IstioOperator has no CRD in ../shared/schemas: check the keys the docs rely on.
    const mesh = parse(read('istio/mesh-config.yaml')) as any;
    expect(mesh.kind).toBe('IstioOperator');
    expect(mesh.spec.meshConfig.extensionProviders[0].name).toBe('otel-tracing');
    expect((parse(read('istio/telemetry.yaml')) as any).spec.tracing[0].providers[0].name).toBe('otel-tracing');
  });
});

describe('the canary script', () => {
  it('starts a new canary at 0 % before giving it weight, and rejects bad input', () => {
    const plan = planCanary(['memory', '25']);
    expect(plan.values).toMatch(/weight: 25/);
    expect(plan.commands).toHaveLength(3);
    expect(plan.commands[0]).toMatch(/canary.weight=0$/);
    expect(plan.commands[2]).toMatch(/canary.weight=25$/);
    expect(planCanary(['memory', '0']).commands).toHaveLength(1);
    expect(() => planCanary(['brain', '10'])).toThrow(/usage/);
    expect(() => planCanary(['memory', '101'])).toThrow(/0 to 100/);
    expect(() => planCanary(['memory', '7.5'])).toThrow(/0 to 100/);
  });
});

describe('the image', () => {
  const dockerfile = read('deploy/Dockerfile');

  it('is one multi-stage Dockerfile, parameterised by SERVICE, running as UID 10001', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/^ARG SERVICE$/m);
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(read('.dockerignore')).toMatch(/\*\*\/node_modules/);
  });

  it('sizes the heap from the cgroup memory limit and loads the OpenTelemetry bootstrap when present', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jamey-entrypoint-'));
    try {
      mkdirSync(join(dir, 'apps/memory/dist'), { recursive: true });
      writeFileSync(join(dir, 'apps/memory/dist/main.js'), 'console.log(JSON.stringify(process.env.NODE_OPTIONS));');
      mkdirSync(join(dir, 'cgroup'));
      writeFileSync(join(dir, 'cgroup/memory.max'), '536870912\n');
      const start = (extra: Record<string, string> = {}) =>
        execFileSync('sh', [join(REPO_ROOT, 'deploy/docker-entrypoint.sh')], {
          encoding: 'utf8',
          env: { PATH: process.env['PATH'] ?? '', JAMEY_SERVICE: 'memory', JAMEY_APP_DIR: dir, JAMEY_CGROUP_DIR: join(dir, 'cgroup'), ...extra },
        });
      expect(start()).toMatch(/--max-old-space-size=384/);
      expect(start({ JAMEY_HEAP_PERCENT: '50' })).toMatch(/--max-old-space-size=256/);
      expect(start({ NODE_OPTIONS: '--max-old-space-size=100' })).not.toMatch(/=384/);
      writeFileSync(join(dir, 'cgroup/memory.max'), 'max\n');
      expect(start()).not.toMatch(/max-old-space-size/);
      writeFileSync(join(dir, 'otel.mjs'), '');
      expect(start({ JAMEY_OTEL_BOOTSTRAP: join(dir, 'otel.mjs') })).toMatch(/--import=.*otel\.mjs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The shell commands of a Markdown page's ```sh blocks. */
function commands(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
}

/**
 * Renders or lints every command of a doc. helm install/upgrade becomes helm template with the
 * same flags (--reuse-values carries the previous --set flags over, like helm does); kubectl
 * create runs with --dry-run=client; kubectl apply validates the file; the names in port-forward
 * and rollout commands must be rendered objects. Anything else fails: docs stay testable.
 */
function checkDoc(path: string): void {
  const { kubectl } = tools();
  // Files a command writes (`npm run service-key … --out secrets`) live here, where later
  // commands (`kubectl create secret … --from-file=secrets/…`) read them.
  const workdir = mkdtempSync(join(tmpdir(), 'jamey-doc-run-'));
  // Secrets the doc creates, by name, with their keys.
  const secrets = new Map<string, string[]>();
  let values: string[] = [];
  let objects: K8sObject[] = [];
  const skaffold = parse(read('skaffold.yaml')) as any;
  for (const line of commands(read(path))) {
    const words = line.split(/\s+/);
    const [tool, verb] = words;
    if (tool === 'helm' && (verb === 'upgrade' || verb === 'install')) {
      const rest = words.slice(2).filter((w) => w !== '--install' && w !== '--wait');
      const [release, chart, ...flags] = rest;
      expect(chart, line).toBe('helm/jamey');
      const reuse = flags.includes('--reuse-values');
      const own = flags.filter((w) => w !== '--reuse-values');
      const ns = own.indexOf('-n');
      const namespace = own[ns + 1]!;
      own.splice(ns, 2);
      values = reuse ? [...values, ...own] : own;
      objects = render(values.map((w) => (w.startsWith('helm/') ? join(REPO_ROOT, w) : w)), { release: release!, namespace });
      expect(objects.flatMap((o) => validateObject(o)), line).toEqual([]);
      // Every key a Deployment mounts from a Secret the doc created is in that Secret.
      for (const o of ofKind(objects, 'Deployment')) {
        for (const volume of ((o.spec as any).template.spec.volumes ?? []) as any[]) {
          const keys = secrets.get(volume.secret?.secretName);
          if (keys === undefined) continue;
          for (const item of volume.secret.items ?? []) expect(keys, `${line}: ${o.metadata.name} mounts ${item.key}`).toContain(item.key);
        }
      }
    } else if (tool === 'helm' && verb === 'test') {
      expect(objects.some((o) => o.metadata.annotations?.['helm.sh/hook'] === 'test'), line).toBe(true);
    } else if (tool === 'node' && words[1] === 'deploy/scripts/canary.mjs') {
      expect(planCanary(words.slice(2)).commands.length, line).toBeGreaterThan(0);
    } else if (tool === 'npm' && words.slice(0, 4).join(' ') === 'npm run -s service-key') {
      // The real command (built by `npm test`'s build step), writing into the scratch folder.
      run(process.execPath, [join(REPO_ROOT, 'libs/security/dist/cli/service-key.js'), ...words.slice(words.indexOf('--') + 1)], { cwd: workdir });
    } else if (tool === 'openssl' && verb === 'genpkey') {
      run('openssl', words.slice(1), { cwd: workdir });
    } else if (tool === 'kubectl' && words.includes('create')) {
      const created = run(kubectl, [...words.slice(1), '--dry-run=client', '-o', 'yaml'], { cwd: workdir });
      if (words.includes('secret')) {
        const secret = parse(created) as { metadata: { name: string }; data: Record<string, string> };
        secrets.set(secret.metadata.name, Object.keys(secret.data));
      }
    } else if (tool === 'kubectl' && words.includes('apply')) {
      const file = words[words.indexOf('-f') + 1]!;
      expect(parseObjects(read(file)).flatMap((o) => validateObject(o)), line).toEqual([]);
    } else if (tool === 'kubectl' && (words.includes('port-forward') || words.includes('rollout'))) {
      const ref = words.find((w) => /^(svc|deploy)\//.test(w))!;
      const [kind, name] = ref.split('/');
      const target = ofKind(objects, kind === 'svc' ? 'Service' : 'Deployment').find((o) => o.metadata.name === name);
      const forwarded = (skaffold.portForward as any[]).some((p) => p.resourceName === name);
      expect(target !== undefined || forwarded, line).toBe(true);
      // A port-forward to a rendered Service names one of its ports.
      const remote = /^\d+:(\d+)$/.exec(words.find((w) => /^\d+:\d+$/.test(w)) ?? '')?.[1];
      if (kind === 'svc' && target && words.includes('port-forward')) {
        expect(((target.spec as any).ports as any[]).map((p) => String(p.port)), line).toContain(remote);
      }
    } else if (tool === 'istioctl') {
      parse(read(words[words.indexOf('-f') + 1]!));
    } else if (tool === 'skaffold') {
      const profile = words.includes('-p') ? words[words.indexOf('-p') + 1] : undefined;
      if (profile) expect((skaffold.profiles as any[]).some((p) => p.name === profile), line).toBe(true);
    } else if (tool !== 'curl') {
      throw new Error(`${path}: no test covers the command: ${line}`);
    }
  }
}

describeWithSchemas('docs: every command is rendered or linted', () => {
  it('docs/deploy.md', () => checkDoc('docs/deploy.md'));
  it('docs/canary.md', () => checkDoc('docs/canary.md'));
  it('fails on a command it cannot check', () => {
    expect(() => {
      const file = join(mkdtempSync(join(tmpdir(), 'jamey-doc-')), 'doc.md');
      writeFileSync(file, '```sh\nkubectl delete ns jamey\n```\n');
      checkDoc(file.replace(REPO_ROOT, ''));
    }).toThrow();
  });
});
