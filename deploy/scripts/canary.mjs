#!/usr/bin/env node
// Prints the values change and the helm command that set a service's canary weight in
// progressiveDelivery.mode helm (docs/canary.md):
//   node deploy/scripts/canary.mjs memory 25            # canary at 25 %
//   node deploy/scripts/canary.mjs memory 100           # all traffic on the canary (then promote)
//   node deploy/scripts/canary.mjs memory 0             # rollback: no traffic on the canary
//   node deploy/scripts/canary.mjs memory 10 --tag 3.1.0 [--release jamey] [--namespace jamey]
// A canary that is not running yet is started at weight 0 first: its pods and subset must exist
// one release before any weight points at them (Istio's 503 pitfall), so two commands are printed.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const graph = JSON.parse(readFileSync(join(root, 'helm/jamey/files/call-graph.json'), 'utf8'));

/** Builds the plan: values YAML fragments and helm commands. @throws Error on bad input */
export function planCanary(args) {
  const [service, weightText, ...rest] = args;
  const flags = {};
  for (let i = 0; i < rest.length; i += 2) {
    if (!rest[i]?.startsWith('--') || rest[i + 1] === undefined) throw new Error(`bad option ${rest[i] ?? ''}`);
    flags[rest[i].slice(2)] = rest[i + 1];
  }
  if (!service || !(service in graph.services)) {
    throw new Error(`usage: canary <service> <weight 0-100> [--tag T] [--release R] [--namespace N]; services: ${Object.keys(graph.services).join(', ')}`);
  }
  if (!/^(100|[1-9]?[0-9])$/.test(weightText ?? '')) throw new Error('weight must be an integer from 0 to 100');
  const weight = Number(weightText);
  const release = flags.release ?? 'jamey';
  const namespace = flags.namespace ?? 'jamey';
  const base = `helm upgrade ${release} helm/jamey -n ${namespace} --reuse-values --set progressiveDelivery.mode=helm`;
  const tag = flags.tag ? ` --set services.${service}.canary.image.tag=${flags.tag}` : '';
  const set = (w) => `${base} --set services.${service}.canary.enabled=true --set services.${service}.canary.weight=${w}${tag}`;
  const values = [
    'progressiveDelivery:',
    '  mode: helm',
    'services:',
    `  ${service}:`,
    '    canary:',
    '      enabled: true',
    `      weight: ${weight}`,
    ...(flags.tag ? ['      image:', `        tag: "${flags.tag}"`] : []),
  ].join('\n');
  const commands = [];
  // The first step (weight 0) is harmless when the canary already runs, and required when not.
  if (weight > 0) commands.push(set(0), `kubectl -n ${namespace} rollout status deploy/${release}-${service}-canary`);
  commands.push(set(weight));
  return { values, commands };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const plan = planCanary(process.argv.slice(2));
    console.log('# values change');
    console.log(plan.values);
    console.log('\n# commands');
    for (const command of plan.commands) console.log(command);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
}
