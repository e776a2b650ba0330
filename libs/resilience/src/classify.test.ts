import { dependencyUnavailable, invalidArgument, JameyError, notFound } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { classifyError, classifyGrpcCode, isCancellation, isTransient, retryAfterOf, type ErrorCategory } from './classify.js';
import { BrokenCircuitError, BulkheadRejectedError, IsolatedCircuitError, TimeoutError } from './errors.js';

const error = (fields: Record<string, unknown>, message = 'boom'): Error => Object.assign(new Error(message), fields);
const named = (name: string, fields: Record<string, unknown> = {}, message = 'boom'): Error => {
  const e = error(fields, message);
  e.name = name;
  return e;
};

describe('classifyError', () => {
  it('gRPC: exactly UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED and ABORTED are not permanent', () => {
    const categories = Array.from({ length: 17 }, (_, code) => classifyGrpcCode(code));
    expect(categories.flatMap((category, code) => (category === 'permanent' ? [] : [[code, category]]))).toEqual([
      [4, 'timeout'],
      [8, 'rate-limited'],
      [10, 'transient'],
      [14, 'transient'],
    ]);
    expect(classifyError(error({ code: 14, details: 'no connection', metadata: {} }))).toBe('transient');
    expect(classifyError(error({ code: 5 }))).toBe('permanent');
    expect(classifyError(error({ code: 1 }))).toBe('permanent'); // CANCELLED
  });

  const cases: [string, unknown, ErrorCategory][] = [
    ['JameyError DEPENDENCY_UNAVAILABLE', dependencyUnavailable('memory'), 'transient'],
    ['JameyError DEADLINE_EXCEEDED', new JameyError('DEADLINE_EXCEEDED', 'late'), 'timeout'],
    ['JameyError RATE_LIMITED', new JameyError('RATE_LIMITED', 'slow down'), 'rate-limited'],
    ['JameyError CONFLICT (travels as ABORTED)', new JameyError('CONFLICT', 'version moved'), 'transient'],
    ['JameyError INVALID_ARGUMENT', invalidArgument('body.x', 'bad'), 'permanent'],
    ['JameyError NOT_FOUND', notFound('memory', '1'), 'permanent'],
    ['BrokenCircuitError', new BrokenCircuitError('memory', 10), 'transient'],
    ['IsolatedCircuitError', new IsolatedCircuitError('memory', 10), 'transient'],
    ['TimeoutError', new TimeoutError('memory', 10), 'timeout'],
    ['BulkheadRejectedError', new BulkheadRejectedError('memory', 1, 0), 'rate-limited'],
    ['ECONNREFUSED (ioredis, pg, net)', error({ code: 'ECONNREFUSED', errno: -111, syscall: 'connect' }), 'transient'],
    ['ECONNRESET', error({ code: 'ECONNRESET' }), 'transient'],
    ['EPIPE', error({ code: 'EPIPE' }), 'transient'],
    ['ETIMEDOUT', error({ code: 'ETIMEDOUT' }), 'timeout'],
    ['undici connect timeout', error({ code: 'UND_ERR_CONNECT_TIMEOUT' }), 'timeout'],
    ['Postgres 40001 serialization_failure', error({ code: '40001', severity: 'ERROR' }), 'transient'],
    ['Postgres 40P01 deadlock', error({ code: '40P01' }), 'transient'],
    ['Postgres 57P01 admin_shutdown', error({ code: '57P01' }), 'transient'],
    ['Postgres 08006 connection_failure', error({ code: '08006' }), 'transient'],
    ['Postgres 08P01 protocol_violation (class 08)', error({ code: '08P01' }), 'transient'],
    ['Postgres 57014 query_canceled', error({ code: '57014' }), 'timeout'],
    ['Postgres 53300 too_many_connections', error({ code: '53300' }), 'rate-limited'],
    ['Postgres 23505 unique_violation', error({ code: '23505' }), 'permanent'],
    ['Postgres 42P01 undefined_table', error({ code: '42P01' }), 'permanent'],
    ['ioredis LOADING', named('ReplyError', {}, 'LOADING Redis is loading the dataset in memory'), 'transient'],
    ['ioredis READONLY after failover', named('ReplyError', {}, "READONLY You can't write against a read only replica."), 'transient'],
    ['ioredis WRONGTYPE', named('ReplyError', {}, 'WRONGTYPE Operation against a key holding the wrong kind of value'), 'permanent'],
    ['ioredis MaxRetriesPerRequestError', named('MaxRetriesPerRequestError'), 'transient'],
    ['ioredis closed connection', new Error('Connection is closed.'), 'transient'],
    ['kafkajs retriable', named('KafkaJSProtocolError', { retriable: true, type: 'NOT_LEADER_FOR_PARTITION', code: 6 }), 'transient'],
    ['kafkajs non-retriable with a small numeric code', named('KafkaJSProtocolError', { retriable: false, type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3 }), 'permanent'],
    ['kafkajs request timeout', named('KafkaJSRequestTimeoutError', { retriable: true }), 'timeout'],
    ['kafkajs throttled', named('KafkaJSProtocolError', { retriable: true, type: 'THROTTLING_QUOTA_EXCEEDED', code: 89 }), 'rate-limited'],
    ['kafkajs gave up after its own retries', named('KafkaJSNumberOfRetriesExceeded', { retriable: false }), 'transient'],
    ['kafkajs connection error', named('KafkaJSConnectionError', { retriable: true }), 'transient'],
    ['AbortError (a cancellation)', new DOMException('aborted', 'AbortError'), 'permanent'],
    ['AbortSignal.timeout reason', new DOMException('timed out', 'TimeoutError'), 'timeout'],
    ['DOMException with a gRPC-looking legacy code', new DOMException('x', 'NotFoundError'), 'permanent'],
    ['a wrapped cause', new Error('query failed', { cause: error({ code: 'ECONNRESET' }) }), 'transient'],
    ['a plain Error', new Error('bug'), 'permanent'],
    ['a string', 'nope', 'permanent'],
    ['null', null, 'permanent'],
    ['an out-of-range numeric code', error({ code: 99 }), 'permanent'],
  ];

  it.each(cases)('%s', (_name, value, expected) => {
    expect(classifyError(value)).toBe(expected);
    expect(isTransient(value)).toBe(expected !== 'permanent');
  });

  it('gives up following causes after a few levels (and never loops on a cycle)', () => {
    const cyclic: Error & { cause?: unknown } = new Error('a');
    cyclic.cause = cyclic;
    expect(classifyError(cyclic)).toBe('permanent');
  });
});

describe('isCancellation and retryAfterOf', () => {
  it('recognises AbortError and reads the wait an error asks for', () => {
    expect(isCancellation(new DOMException('x', 'AbortError'))).toBe(true);
    expect(isCancellation(new Error('x'))).toBe(false);
    expect(retryAfterOf(new BrokenCircuitError('memory', 1_234.2))).toBe(1_235);
    expect(retryAfterOf(dependencyUnavailable('soul', undefined, 500))).toBe(500);
    expect(retryAfterOf(new Error('x'))).toBeUndefined();
  });
});
