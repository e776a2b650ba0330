import { access } from '@jamey/proto';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  ACCESS_TEXT_MAX_CHARS,
  AccessOutcome,
  AccessProtocol,
  accessRecord,
  accessSubject,
  callDeniedEvent,
  catalog,
  createAccessMetrics,
  outcomeName,
  outcomeOfGrpcCode,
  outcomeOfHttpStatus,
} from './index.js';

describe('access records', () => {
  it('maps HTTP statuses to outcomes', () => {
    const names = [200, 204, 302, 400, 401, 403, 404, 409, 429, 500, 503].map((s) => outcomeName(outcomeOfHttpStatus(s)));
    expect(names).toEqual(['allowed', 'allowed', 'allowed', 'failed', 'unauthenticated', 'denied', 'failed', 'failed', 'throttled', 'error', 'error']);
  });

  it('maps gRPC codes to outcomes', () => {
    // OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, PERMISSION_DENIED,
    // RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE, UNAUTHENTICATED
    const names = [0, 1, 2, 3, 4, 5, 7, 8, 13, 14, 16].map((c) => outcomeName(outcomeOfGrpcCode(c)));
    expect(names).toEqual(['allowed', 'failed', 'error', 'failed', 'error', 'failed', 'denied', 'throttled', 'error', 'error', 'unauthenticated']);
  });

  it('builds a payload the gateway can publish, with the trace id from a valid traceparent', () => {
    const record = accessRecord({
      actor: 'alice',
      action: 'GET /v1/memories/:id',
      resource: '/v1/memories/m-1',
      outcome: outcomeOfHttpStatus(403),
      protocol: AccessProtocol.ACCESS_PROTOCOL_HTTP,
      status: 403,
      reason: 'insufficient_scope',
      missingScopes: ['memory:read'],
      ip: '203.0.113.9',
      userAgent: 'curl/8',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(record).toMatchObject({ actor: 'alice', outcome: AccessOutcome.ACCESS_OUTCOME_DENIED, status: 403, traceId: '0af7651916cd43dd8448eb211c80319c', count: 0 });
    // It round-trips through the catalog's schema and renders as the JSON audit indexes.
    const definition = catalog['gateway.request_completed'];
    const decoded = definition.schema.decode(definition.schema.encode(record).finish());
    expect(decoded).toEqual(record);
    expect(definition.schema.toJSON(decoded)).toMatchObject({ actor: 'alice', outcome: 'ACCESS_OUTCOME_DENIED', missingScopes: ['memory:read'] });
    expect(accessSubject(record)).toBe('alice');
  });

  it('cuts attacker-sized text, drops NUL, ignores a malformed traceparent and names anonymous callers', () => {
    const record = accessRecord({
      action: '/x',
      outcome: AccessOutcome.ACCESS_OUTCOME_UNAUTHENTICATED,
      protocol: AccessProtocol.ACCESS_PROTOCOL_GRPC,
      status: 16,
      userAgent: 'a'.repeat(100_000),
      resource: 'r\u0000',
      traceparent: 'not-a-traceparent',
    });
    expect(record.userAgent).toHaveLength(ACCESS_TEXT_MAX_CHARS);
    expect(record.resource).toBe('r\uFFFD');
    expect(record.traceId).toBe('');
    expect(accessSubject(record)).toBe('anonymous');
  });

  it('gives each gRPC service its call_denied event on its own topic', () => {
    expect(callDeniedEvent('memory')).toBe(catalog['memory.call_denied']);
    expect(callDeniedEvent('audit').topic).toBe('jamey.audit.events.v1');
    expect(callDeniedEvent('telemetry').schema).toBe(access.AccessRecord);
  });

  it('counts refusals by outcome and a bounded reason', async () => {
    const registry = new Registry();
    const metrics = createAccessMetrics(registry);
    metrics.refused(AccessOutcome.ACCESS_OUTCOME_UNAUTHENTICATED, 'missing');
    metrics.refused(AccessOutcome.ACCESS_OUTCOME_UNAUTHENTICATED, 'missing');
    metrics.refused(AccessOutcome.ACCESS_OUTCOME_DENIED, 'Attacker Controlled <script>');
    metrics.folded(5);
    const text = await registry.metrics();
    expect(text).toContain('jamey_security_refusals_total{outcome="unauthenticated",reason="missing"} 2');
    expect(text).toContain('jamey_security_refusals_total{outcome="denied",reason="other"} 1');
    expect(text).toContain('jamey_security_refusals_folded_total 5');
  });
});
