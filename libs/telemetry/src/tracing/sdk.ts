import { FastifyOtelInstrumentation } from '@fastify/otel';
import { diag } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { NoopSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { isUntracedHttpPath, UNTRACED_GRPC_METHODS } from './ignore.js';
import type { TracingSettings } from './settings.js';

/**
 * The instrumentations Jamey runs with: incoming and outgoing HTTP (node:http and fetch),
 * Fastify routes, gRPC (client and server, which also carries `traceparent` in the call
 * metadata), pg and ioredis. Health checks and metrics scrapes make no spans. Database and
 * Redis commands make spans only inside a traced operation, so the outbox relay's polling and
 * cache invalidation chatter stay out of Jaeger.
 *
 * Not here on purpose: fs, dns and net (noise), and kafkajs: `@jamey/events` makes the
 * messaging spans itself, because the kafkajs instrumentation would make the relay's publish
 * span a child of whatever context the relay loop runs in and overwrite the `traceparent`
 * stored with the event (see docs/observability.md, "Traces").
 */
export function createInstrumentations(): Instrumentation[] {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => isUntracedHttpPath(request.url),
      ignoreOutgoingRequestHook: (options) => isUntracedHttpPath(typeof options === 'string' ? options : (options.path ?? undefined)),
    }),
    new UndiciInstrumentation({ ignoreRequestHook: (request) => isUntracedHttpPath(request.path) }),
    new FastifyOtelInstrumentation({
      registerOnInitialization: true,
      ignorePaths: (route) => isUntracedHttpPath(route.url),
      // One span for the route handler is enough; a span per lifecycle hook buries it.
      instrumentHooks: false,
    }),
    new GrpcInstrumentation({ ignoreGrpcMethods: [...UNTRACED_GRPC_METHODS] }),
    new PgInstrumentation({ requireParentSpan: true }),
    new IORedisInstrumentation({ requireParentSpan: true }),
  ];
}

/** A started OpenTelemetry SDK. */
export interface TelemetrySdk {
  /** Flushes the spans not exported yet and stops the SDK. Resolves even when the export fails. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK with Jamey's instrumentations and `settings`. Traces,
 * and only traces: metrics stay with prom-client and logs with pino on stdout, so the SDK's
 * OTLP metric and log exporters are off unless `OTEL_METRICS_EXPORTER` / `OTEL_LOGS_EXPORTER`
 * ask for them.
 *
 * Without an exporter spans are still created and propagated (log lines keep their
 * `trace_id`, downstream calls their `traceparent`); they are just not sent anywhere.
 */
export function startTelemetrySdk(settings: TracingSettings, env: Readonly<Record<string, string | undefined>>): TelemetrySdk {
  const sdk = new NodeSDK({
    resource: defaultResource().merge(resourceFromAttributes({ ...settings.resource })),
    instrumentations: createInstrumentations(),
    // Undefined lets the SDK build the exporter and batch processor from OTEL_* variables.
    ...(settings.exportSpans ? {} : { spanProcessors: [new NoopSpanProcessor()] }),
    ...(settings.samplerRatio === undefined
      ? {}
      : { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.samplerRatio) }) }),
    ...(env['OTEL_METRICS_EXPORTER'] ? {} : { metricReaders: [] }),
    ...(env['OTEL_LOGS_EXPORTER'] ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  return {
    shutdown: () =>
      (stopped ??= sdk.shutdown().catch((error: unknown) => {
        diag.error('OpenTelemetry SDK shutdown failed', error);
      })),
  };
}

const SDK_KEY = Symbol.for('jamey.telemetry.sdk');
type Holder = { [SDK_KEY]?: TelemetrySdk };

/**
 * Records the process's SDK. The OpenTelemetry API is process-global already; this keeps the
 * one handle `shutdownTelemetry` needs in the same place, whichever copy of this module (the
 * `--import` entry's or the app's) asks.
 */
export function setProcessTelemetry(sdk: TelemetrySdk): void {
  (globalThis as Holder)[SDK_KEY] = sdk;
}

/**
 * Flushes and stops the process's OpenTelemetry SDK, if `@jamey/telemetry/register` started
 * one; a no-op otherwise. The last step of a service's ordered shutdown (STYLE.md §10), after
 * pools are closed, so the spans of the shutdown itself are exported too. Waits at most
 * `timeoutMs` (default 5000) for the exporter.
 */
export async function shutdownTelemetry(timeoutMs = 5_000): Promise<void> {
  const sdk = (globalThis as Holder)[SDK_KEY];
  if (sdk === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    sdk.shutdown(),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
