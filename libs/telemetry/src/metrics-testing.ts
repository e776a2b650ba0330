/**
 * Metrics test helpers, exported from `@jamey/telemetry/testing`. Not for production code: it builds and
 * runs a Go program.
 *
 * `/metrics` is parsed by the Prometheus project's own text-format parser (`expfmt`, wrapped by
 * `../promtext`, built once per process with the local Go toolchain), not by regular
 * expressions: what passes here is what a Prometheus server would ingest. The npm parser
 * `parse-prometheus-text-format` was tried first and merges every labelled histogram series
 * into one, so it cannot check labels.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One sample line: histogram buckets, sums and counts are samples of their family. */
export interface MetricSample {
  /** The sample's own name: `x_bucket`, `x_sum` and `x_count` for a histogram `x`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The Prometheus metric types. */
export type MetricType = 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';

/** One metric family, as Prometheus parses it; `samples` is empty for a family only declared so far. */
export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: readonly MetricSample[];
}

const PROMTEXT_DIR = fileURLToPath(new URL('../promtext/', import.meta.url));
let binary: Promise<string> | undefined;

function run(file: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { cwd, timeout: 300_000 }, (error, _stdout, stderr) => {
      if (!error) resolve();
      else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`the metrics tests build Prometheus's parser with Go, and \`${file}\` is not on PATH (scripts/infra.sh needs Go too)`));
      } else reject(new Error(`${file} ${args.join(' ')} in ${cwd} failed: ${stderr || error.message}`));
    }),
  );
}

/** Builds the parser once per process, into a path keyed by its sources (concurrent workers race harmlessly). */
function parserBinary(): Promise<string> {
  binary ??= (async () => {
    const hash = createHash('sha256');
    for (const file of ['main.go', 'go.mod', 'go.sum']) hash.update(readFileSync(join(PROMTEXT_DIR, file)));
    const target = join(tmpdir(), `jamey-promtext-${hash.digest('hex').slice(0, 16)}`);
    if (existsSync(target)) return target;
    const partial = `${target}.${process.pid}.partial`;
    await run('go', ['build', '-o', partial, '.'], PROMTEXT_DIR);
    renameSync(partial, target);
    return target;
  })();
  return binary;
}

/**
 * Parses Prometheus text exposition format. Rejects with the parser's message (line and reason)
 * when the text is not valid.
 */
export async function parseMetrics(text: string): Promise<Map<string, MetricFamily>> {
  const file = await parserBinary();
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(file, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`invalid Prometheus text format: ${stderr.trim()}`))));
    child.stdin.end(text);
  });
  const parsed = JSON.parse(output) as { name: string; type: MetricType; help: string; samples: { name: string; labels: Record<string, string>; value: string }[] }[];
  const families = new Map<string, MetricFamily>(
    parsed.map((f) => [f.name, { ...f, samples: f.samples.map((s) => ({ ...s, value: Number(s.value) })) }]),
  );
  // Prometheus drops a declared family that has no samples yet (a counter nothing incremented).
  // The parser has accepted its TYPE line; keep it, empty, so tests can tell declared from absent.
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (name && type && !families.has(name)) families.set(name, { name, type: type.toUpperCase() as MetricType, help: '', samples: [] });
  }
  return families;
}

/** Fetches `url` (an admin server's `/metrics`) and parses it. */
export async function scrapeMetrics(url: string): Promise<Map<string, MetricFamily>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return parseMetrics(await response.text());
}

/** A family a service must expose. */
export interface RequiredFamily {
  readonly name: string;
  readonly type: MetricType;
  /** Labels every sample carries (besides `service`, and `le` for histogram buckets). */
  readonly labels?: readonly string[];
  /** Whether at least one sample must be present already (default false: the family is declared). */
  readonly withSamples?: boolean;
}

/** What a service does, which decides the families it must expose. */
export interface ServiceRoles {
  /** Serves HTTP (the gateway). */
  readonly http?: boolean;
  /** Serves gRPC (every service but the gateway). */
  readonly rpcServer?: boolean;
  /** Calls other services over gRPC (it has call-graph edges). */
  readonly rpcClient?: boolean;
  /** Owns a database (and so an outbox and its relay). */
  readonly database?: boolean;
  /** Publishes events. */
  readonly producer?: boolean;
  /** Consumes events. */
  readonly consumer?: boolean;
}

const family = (name: string, type: MetricType, labels: readonly string[] = [], withSamples = false): RequiredFamily => ({
  name,
  type,
  labels,
  withSamples,
});

/**
 * The families a service with `roles` must expose (docs/observability.md, "Metrics"). Samples
 * are required where any running service has them (runtime, readiness once it ran, resilience
 * state); request families need traffic first, so tests that sent some ask for samples of those.
 */
export function requiredMetricFamilies(roles: ServiceRoles, options: { traffic?: boolean } = {}): RequiredFamily[] {
  const traffic = options.traffic ?? false;
  const required = [
    family('process_cpu_seconds_total', 'COUNTER', [], true),
    family('process_resident_memory_bytes', 'GAUGE', [], true),
    family('nodejs_heap_size_used_bytes', 'GAUGE', [], true),
    family('nodejs_eventloop_lag_seconds', 'GAUGE', [], true),
    family('jamey_readiness_check_up', 'GAUGE', ['check'], true),
    family('jamey_circuit_breaker_state', 'GAUGE', ['dependency', 'state'], roles.database === true || roles.rpcClient === true),
    family('jamey_circuit_breaker_calls_total', 'COUNTER', ['dependency', 'outcome']),
    family('jamey_circuit_breaker_rejections_total', 'COUNTER', ['dependency']),
    family('jamey_retry_attempts_total', 'COUNTER', ['dependency']),
    family('jamey_retry_give_ups_total', 'COUNTER', ['dependency', 'reason']),
    family('jamey_timeouts_total', 'COUNTER', ['dependency']),
    family('jamey_bulkhead_rejections_total', 'COUNTER', ['dependency']),
    family('jamey_bulkhead_active_calls', 'GAUGE', ['dependency']),
    family('jamey_bulkhead_queue_depth', 'GAUGE', ['dependency']),
    family('jamey_degradation_level', 'GAUGE', ['dependency'], roles.database === true || roles.rpcClient === true),
  ];
  if (roles.http) required.push(family('http_server_request_duration_seconds', 'HISTOGRAM', ['method', 'route', 'status_code'], traffic));
  if (roles.rpcServer) required.push(family('rpc_server_call_duration_seconds', 'HISTOGRAM', ['method', 'code'], traffic));
  if (roles.rpcClient) required.push(family('rpc_client_call_duration_seconds', 'HISTOGRAM', ['dependency', 'method', 'code'], traffic));
  if (roles.database) {
    required.push(
      family('jamey_db_pool_connections', 'GAUGE', ['state'], true),
      family('jamey_db_query_duration_seconds', 'HISTOGRAM', ['operation'], true),
      family('jamey_outbox_backlog_events', 'GAUGE'),
      family('jamey_outbox_publish_failures_total', 'COUNTER'),
    );
  }
  if (roles.producer) required.push(family('jamey_kafka_messages_produced_total', 'COUNTER', ['topic'], traffic));
  if (roles.consumer) {
    required.push(
      family('jamey_kafka_messages_consumed_total', 'COUNTER', ['group', 'topic', 'outcome'], traffic),
      family('jamey_kafka_message_processing_duration_seconds', 'HISTOGRAM', ['group', 'topic'], traffic),
      family('jamey_kafka_consumer_lag_messages', 'GAUGE', ['group', 'topic']),
      family('jamey_kafka_dead_letters_total', 'COUNTER', ['group', 'topic', 'reason']),
    );
  }
  return required;
}

/** What is wrong with `families` against `required`: one line per problem, empty when all is well. */
export function missingMetricFamilies(families: ReadonlyMap<string, MetricFamily>, required: readonly RequiredFamily[]): string[] {
  const problems: string[] = [];
  for (const want of required) {
    const found = families.get(want.name);
    if (!found) {
      problems.push(`${want.name}: missing`);
      continue;
    }
    if (found.type !== want.type) problems.push(`${want.name}: is a ${found.type}, expected a ${want.type}`);
    if (want.withSamples && found.samples.length === 0) problems.push(`${want.name}: has no samples yet`);
    for (const sample of found.samples) {
      const absent = (want.labels ?? []).filter((label) => !(label in sample.labels));
      if (absent.length > 0) {
        problems.push(`${want.name}: a sample lacks ${absent.join(', ')} (${JSON.stringify(sample.labels)})`);
        break;
      }
    }
  }
  return problems;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
/** A path segment that is an id rather than a name: a number, a long hex string, or a ULID. */
const ID_SEGMENT = /^(\d+|[0-9a-f]{16,}|[0-9A-HJKMNP-TV-Z]{26})$/i;
/** More label sets than this in one family means a label is not bounded. */
const MAX_SERIES_PER_FAMILY = 200;
const MAX_LABEL_VALUE_LENGTH = 120;

/**
 * Label values that break the low-cardinality rule: a UUID anywhere, a path with an id segment
 * (`/v1/memories/42`), an overlong value, or a family with more than 200 label sets. Route
 * templates (`/v1/memories/:id`) and gRPC method paths are fine. One line per problem.
 */
export function highCardinalityLabels(families: ReadonlyMap<string, MetricFamily>): string[] {
  const problems: string[] = [];
  for (const found of families.values()) {
    const series = new Set<string>();
    for (const sample of found.samples) {
      const { le: _le, quantile: _quantile, ...identity } = sample.labels;
      series.add(JSON.stringify(identity));
      for (const [label, value] of Object.entries(sample.labels)) {
        const idInPath = value.includes('/') && value.split('/').some((segment) => ID_SEGMENT.test(segment));
        if (UUID.test(value) || idInPath || value.length > MAX_LABEL_VALUE_LENGTH) {
          problems.push(`${found.name}{${label}="${value}"}: looks like an id, not a bounded label value`);
        }
      }
    }
    if (series.size > MAX_SERIES_PER_FAMILY) problems.push(`${found.name}: ${series.size} label sets (more than ${MAX_SERIES_PER_FAMILY})`);
  }
  return [...new Set(problems)];
}
