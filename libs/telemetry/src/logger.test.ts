import { Writable } from 'node:stream';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, parseRedactPaths } from './logger.js';

function capture(): { destination: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const text = (): string => chunks.join('');
  return { destination, text, lines: () => text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
  });
  afterAll(() => {
    context.disable();
  });

  it('puts trace_id and span_id on lines written inside a span, and nothing outside', () => {
    const out = capture();
    const logger = createLogger({ service: 'test', destination: out.destination });
    const spanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };
    context.with(trace.setSpanContext(context.active(), spanContext), () => logger.info('inside'));
    logger.info('outside');
    const [inside, outside] = out.lines();
    expect(inside).toMatchObject({ msg: 'inside', trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: '01' });
    expect(outside).not.toHaveProperty('trace_id');
    expect(outside).not.toHaveProperty('span_id');
  });

  it('redacts bearer tokens wherever credentials sit, and the configured personal fields', () => {
    const out = capture();
    const logger = createLogger({ service: 'test', destination: out.destination, redactPaths: parseRedactPaths(' *.email ,entity.name,, ') });
    logger.info(
      {
        req: { headers: { authorization: 'Bearer eyJhbGciOiJ.bearer-secret', cookie: 'session=cookie-secret' } },
        metadata: { authorization: 'Bearer grpc-secret' },
        refreshToken: 'refresh-secret',
        user: { email: 'ada@example.org', apiKey: 'key-secret' },
        entity: { name: 'Ada Lovelace', id: 'ada' },
      },
      'request',
    );
    const text = out.text();
    for (const secret of ['bearer-secret', 'cookie-secret', 'grpc-secret', 'refresh-secret', 'ada@example.org', 'key-secret', 'Ada Lovelace']) {
      expect(text).not.toContain(secret);
    }
    expect(out.lines()[0]).toMatchObject({ entity: { name: '[redacted]', id: 'ada' }, user: { email: '[redacted]' } });
  });

  it('rejects a redaction path pino cannot use, at creation', () => {
    expect(() => createLogger({ service: 'test', redactPaths: ['user..email'] })).toThrow();
  });
});
