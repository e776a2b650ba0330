import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** What the tracing bootstrap reads from the environment (the standard `OTEL_*` variables and a few of Jamey's). */
export interface TracingSettings {
  /** `service.name`, unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` say otherwise. */
  readonly serviceName: string;
  /**
   * Default resource attributes: `service.name`, `service.version`, `service.instance.id`, and
   * `k8s.pod.name` / `k8s.namespace.name` when `POD_NAME` / `POD_NAMESPACE` are set. The
   * `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` variables win over these.
   */
  readonly resource: Readonly<Record<string, string>>;
  /**
   * Whether spans leave the process. True when `OTEL_TRACES_EXPORTER` names an exporter other
   * than `none`, or, when it is unset, when `OTEL_EXPORTER_OTLP_ENDPOINT` or
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set. Without an endpoint nothing is exported, so an
   * embedded `npm start` never tries (and fails) to reach `localhost:4318`.
   */
  readonly exportSpans: boolean;
  /**
   * The root sampling ratio of the default parent-based sampler (`OTEL_TRACES_SAMPLER_ARG`,
   * default 1), or `undefined` when `OTEL_TRACES_SAMPLER` is set and the SDK builds the sampler.
   */
  readonly samplerRatio: number | undefined;
}

/** Thrown when an `OTEL_*` or Jamey tracing variable has a value that cannot be used. */
export class TracingConfigError extends Error {
  override readonly name = 'TracingConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

const set = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/**
 * The service a main script belongs to: `apps/<folder>/dist/main.js` → `<folder>` (the
 * telemetry service's folder is `telemetry`; the embedded host's is `jamey`).
 */
export function serviceFromMainScript(script: string | undefined): string | undefined {
  const match = /[\\/]apps[\\/]([a-z][a-z0-9-]*)[\\/](?:dist|src)[\\/]main\.[cm]?[jt]s$/.exec(script ?? '');
  return match?.[1];
}

/** The `version` of the nearest package.json at or above the main script's folder. */
function versionOf(script: string | undefined): string | undefined {
  if (!set(script)) return undefined;
  let dir = dirname(script);
  for (let depth = 0; depth < 4; depth += 1) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
        return typeof version === 'string' ? version : undefined;
      } catch {
        return undefined;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function parseRatio(raw: string | undefined): number {
  if (!set(raw)) return 1;
  const ratio = Number(raw);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new TracingConfigError(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "${raw}"`);
  }
  return ratio;
}

/**
 * Reads the tracing settings. `mainScript` is the process's entry (`process.argv[1]`), which
 * names the service when neither `OTEL_SERVICE_NAME` nor `JAMEY_SERVICE` is set.
 * @throws TracingConfigError for a sampler ratio outside 0–1.
 */
export function tracingSettingsFromEnv(env: Env, mainScript?: string, newInstanceId: () => string = randomUUID): TracingSettings {
  const serviceName = [env['OTEL_SERVICE_NAME'], env['JAMEY_SERVICE'], serviceFromMainScript(mainScript)].find(set) ?? 'jamey';
  const resource: Record<string, string> = {
    'service.name': serviceName,
    'service.instance.id': set(env['POD_NAME']) ? env['POD_NAME'] : newInstanceId(),
  };
  const version = versionOf(mainScript);
  if (version !== undefined) resource['service.version'] = version;
  if (set(env['POD_NAME'])) resource['k8s.pod.name'] = env['POD_NAME'];
  if (set(env['POD_NAMESPACE'])) resource['k8s.namespace.name'] = env['POD_NAMESPACE'];

  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
  const exportSpans =
    exporters.length > 0
      ? exporters.some((e) => e !== 'none')
      : set(env['OTEL_EXPORTER_OTLP_ENDPOINT']) || set(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
  const samplerRatio = set(env['OTEL_TRACES_SAMPLER']) ? undefined : parseRatio(env['OTEL_TRACES_SAMPLER_ARG']);
  return { serviceName, resource, exportSpans, samplerRatio };
}
