import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isUntracedHttpPath, UNTRACED_GRPC_METHODS } from './ignore.js';
import { serviceFromMainScript, TracingConfigError, tracingSettingsFromEnv } from './settings.js';

const MEMORY_MAIN = fileURLToPath(new URL('../../../../apps/memory/dist/main.js', import.meta.url));
const id = (): string => 'generated-id';

describe('tracingSettingsFromEnv', () => {
  it('exports nothing without an endpoint, so embedded npm start never dials localhost:4318', () => {
    expect(tracingSettingsFromEnv({}, MEMORY_MAIN, id).exportSpans).toBe(false);
    expect(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }, MEMORY_MAIN, id).exportSpans).toBe(false);
    expect(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }, MEMORY_MAIN, id).exportSpans).toBe(true);
    expect(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://jaeger:4318/v1/traces' }, MEMORY_MAIN, id).exportSpans).toBe(true);
    expect(tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'console' }, MEMORY_MAIN, id).exportSpans).toBe(true);
    expect(tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' }, MEMORY_MAIN, id).exportSpans).toBe(false);
  });

  it('names the service from OTEL_SERVICE_NAME, then JAMEY_SERVICE (the image), then the main script', () => {
    expect(tracingSettingsFromEnv({}, MEMORY_MAIN, id).serviceName).toBe('memory');
    expect(tracingSettingsFromEnv({ JAMEY_SERVICE: 'soul' }, MEMORY_MAIN, id).serviceName).toBe('soul');
    expect(tracingSettingsFromEnv({ OTEL_SERVICE_NAME: 'audit', JAMEY_SERVICE: 'soul' }, MEMORY_MAIN, id).serviceName).toBe('audit');
    expect(tracingSettingsFromEnv({}, '/somewhere/else.js', id).serviceName).toBe('jamey');
    expect(serviceFromMainScript('/app/apps/telemetry/dist/main.js')).toBe('telemetry');
    expect(serviceFromMainScript('/repo/apps/jamey/dist/main.js')).toBe('jamey');
  });

  it('describes the instance: version from the app package, pod and namespace from the downward API', () => {
    const bare = tracingSettingsFromEnv({}, MEMORY_MAIN, id);
    expect(bare.resource).toEqual({ 'service.name': 'memory', 'service.instance.id': 'generated-id', 'service.version': '3.0.0' });
    const pod = tracingSettingsFromEnv({ POD_NAME: 'jamey-memory-5f7c-x2x', POD_NAMESPACE: 'jamey' }, MEMORY_MAIN, id);
    expect(pod.resource).toMatchObject({
      'service.instance.id': 'jamey-memory-5f7c-x2x',
      'k8s.pod.name': 'jamey-memory-5f7c-x2x',
      'k8s.namespace.name': 'jamey',
    });
  });

  it('samples parent-based with the ratio of OTEL_TRACES_SAMPLER_ARG, unless OTEL_TRACES_SAMPLER picks a sampler', () => {
    expect(tracingSettingsFromEnv({}, MEMORY_MAIN, id).samplerRatio).toBe(1);
    expect(tracingSettingsFromEnv({ OTEL_TRACES_SAMPLER_ARG: '0.25' }, MEMORY_MAIN, id).samplerRatio).toBe(0.25);
    expect(tracingSettingsFromEnv({ OTEL_TRACES_SAMPLER: 'always_off' }, MEMORY_MAIN, id).samplerRatio).toBeUndefined();
    expect(() => tracingSettingsFromEnv({ OTEL_TRACES_SAMPLER_ARG: 'half' }, MEMORY_MAIN, id)).toThrow(TracingConfigError);
    expect(() => tracingSettingsFromEnv({ OTEL_TRACES_SAMPLER_ARG: '-0.1' }, MEMORY_MAIN, id)).toThrow(/from 0 to 1/);
  });
});

describe('untraced requests', () => {
  it('are health checks and metrics scrapes, whatever the query string or host', () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/readyz?verbose=1', '/metrics/', 'http://10.0.0.1:9101/metrics']) {
      expect(isUntracedHttpPath(path), path).toBe(true);
    }
    for (const path of ['/v1/memories', '/v1/system/health', '/metricsx', undefined]) {
      expect(isUntracedHttpPath(path), String(path)).toBe(false);
    }
  });

  it('include the gRPC health service only: no Jamey RPC shares its method names', () => {
    // The grpc instrumentation matches the bare method name, so a Jamey RPC named Check or
    // Watch would silently lose its spans.
    const protoDir = fileURLToPath(new URL('../../../../proto', import.meta.url));
    const protos = readdirSync(protoDir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.proto'));
    expect(protos.length).toBeGreaterThan(0);
    for (const file of protos) {
      const source = readFileSync(join(protoDir, file), 'utf8');
      for (const method of UNTRACED_GRPC_METHODS) expect(source, file).not.toMatch(new RegExp(`\\brpc\\s+${method}\\s*\\(`));
    }
  });
});
