import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPAN_KIND, startOtlpReceiver, type CollectedSpan, type OtlpReceiver } from './otlp.js';

// These tests run the compiled bootstrap the way a service does: `node --import
// @jamey/telemetry/register`, in a child process, against a real OTLP/HTTP receiver.
const LIB = fileURLToPath(new URL('../..', import.meta.url));
const REGISTER = `${LIB}dist/tracing/register.js`;
const APP = fileURLToPath(new URL('./fixtures/traced-app.mjs', import.meta.url));

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly lines: Record<string, unknown>[];
}

/** Runs the fixture app, sends `requests` to it, then SIGTERMs it and collects its output. */
async function runApp(env: Record<string, string>, requests: (base: string) => Promise<void>): Promise<RunResult> {
  // Nothing OTEL_* leaks in from the environment running the tests.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_') && key !== 'LOG_REDACT_PATHS'));
  const child = spawn(process.execPath, ['--import', REGISTER, APP], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fixture app did not start:\n${stdout}\n${stderr}`)), 20_000);
    const check = (): void => {
      const match = /^ready (\d+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then(() => reject(new Error(`fixture app exited:\n${stdout}\n${stderr}`)));
  });
  try {
    await requests(`http://127.0.0.1:${port}`);
  } finally {
    child.kill('SIGTERM');
  }
  const code = await exited;
  const lines = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, stdout, stderr, lines };
}

const newTraceId = (): string => randomBytes(16).toString('hex');
const line = (result: RunResult, msg: string): Record<string, unknown> => {
  const found = result.lines.find((l) => l['msg'] === msg);
  if (found === undefined) throw new Error(`no "${msg}" line in:\n${result.stdout}`);
  return found;
};

describe('@jamey/telemetry/register (the --import bootstrap)', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    // The child runs the compiled bootstrap: compile it first, so it is never a stale one.
    await promisify(execFile)(process.execPath, [`${LIB}../../node_modules/typescript/bin/tsc`, '-b', `${LIB}tsconfig.json`]);
    receiver = await startOtlpReceiver();
  }, 120_000);
  afterAll(async () => {
    await receiver?.close();
  });

  it('continues the caller trace over HTTP and gRPC metadata, skips health checks, and flushes on shutdown', async () => {
    const traceId = newTraceId();
    const result = await runApp(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Far longer than the test: every span arrives through the flush on SIGTERM.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        OTEL_SERVICE_NAME: 'traced-app',
        POD_NAME: 'traced-app-7d9f-abcde',
        POD_NAMESPACE: 'jamey-test',
      },
      async (base) => {
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        const work = await fetch(`${base}/work`, {
          headers: { traceparent: `00-${traceId}-${'a'.repeat(16)}-01`, authorization: 'Bearer eyJhbGciOi.secret-token.xyz' },
        });
        expect(await work.text()).toBe('hello');
      },
    );
    expect(result.code, result.stderr).toBe(0);

    const spans = receiver.spans();
    const inTrace = spans.filter((s) => s.traceId === traceId);
    const httpServer = inTrace.find((s) => s.kind === SPAN_KIND.server && s.parentSpanId === 'a'.repeat(16));
    const grpcClient = inTrace.find((s) => s.kind === SPAN_KIND.client && s.attributes['rpc.system'] === 'grpc');
    const grpcServer = inTrace.find((s) => s.kind === SPAN_KIND.server && s.attributes['rpc.system'] === 'grpc');
    expect(httpServer, JSON.stringify(spans, null, 1)).toBeDefined();
    expect(grpcClient?.attributes).toMatchObject({ 'rpc.service': 'jamey.test.v1.Echo', 'rpc.method': 'Echo' });
    // The server side continued the client's span: traceparent travelled in the call metadata.
    expect(grpcServer?.parentSpanId).toBe(grpcClient?.spanId);
    expect(grpcClient?.parentSpanId).toBe(httpServer?.spanId);
    expect(httpServer?.resource).toMatchObject({
      'service.name': 'traced-app',
      'service.instance.id': 'traced-app-7d9f-abcde',
      'k8s.pod.name': 'traced-app-7d9f-abcde',
      'k8s.namespace.name': 'jamey-test',
    });
    // Health checks made no spans: not /healthz, not the gRPC health call it made.
    const mentionsHealth = (s: CollectedSpan): boolean => /health/i.test(`${s.name} ${JSON.stringify(s.attributes)}`);
    expect(spans.filter(mentionsHealth)).toEqual([]);
    expect(spans.every((s) => s.traceId === traceId)).toBe(true);

    // Log lines inside a span carry its ids; the bearer token never reached stdout.
    const started = line(result, 'work started');
    expect(started).toMatchObject({ trace_id: traceId, span_id: httpServer?.spanId, trace_flags: '01' });
    expect(line(result, 'echo called')).toMatchObject({ trace_id: traceId, span_id: grpcServer?.spanId });
    expect(String(line(result, 'echo called')['traceparent'])).toContain(traceId);
    expect((started['req'] as { headers: Record<string, unknown> }).headers['authorization']).toBe('[redacted]');
    expect(result.stdout).not.toContain('secret-token');
    expect(result.stdout).not.toContain('eyJhbGciOi');
  }, 60_000);

  it('without an OTLP endpoint exports nothing and prints no export errors, yet logs keep trace ids', async () => {
    const before = receiver.spans().length;
    const result = await runApp({ LOG_REDACT_PATHS: 'req.headers["x-user-email"], *.email' }, async (base) => {
      const work = await fetch(`${base}/work`, { headers: { 'x-user-email': 'ada@example.org' } });
      expect(work.status).toBe(200);
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(receiver.spans().length).toBe(before);
    const started = line(result, 'work started');
    expect(started['trace_id']).toMatch(/^[0-9a-f]{32}$/);
    expect(line(result, 'echo called')['trace_id']).toBe(started['trace_id']);
    // The configured personal field is redacted too.
    expect((started['req'] as { headers: Record<string, unknown> }).headers['x-user-email']).toBe('[redacted]');
    expect(result.stdout).not.toContain('ada@example.org');
  }, 60_000);

  it('fails fast with a clear message on a sampler ratio outside 0–1', async () => {
    const child = spawn(process.execPath, ['--import', REGISTER, '-e', ''], {
      env: { ...process.env, OTEL_TRACES_SAMPLER: '', OTEL_TRACES_SAMPLER_ARG: '1.5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toContain('OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "1.5"');
  }, 30_000);
});
