import { createIdGenerator, createManualClock, createSeededRandom } from '@jamey/core';
import { migrate, openDatabase, silentLogger, type Database } from '@jamey/data';
import { AuthError } from '@jamey/security';
import { AccessOutcome, catalog, createAccessMetrics, createOutbox, decodeEnvelope, eventsMigrationsDir, eventsMigrationsTable } from '@jamey/events';
import { Registry } from '@jamey/telemetry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRefusalRecorder, ipOfPeer } from './refusals.js';

describe('ipOfPeer', () => {
  it('drops the port of IPv4 and bracketed IPv6 peers and keeps anything else', () => {
    expect(ipOfPeer('127.0.0.1:5000')).toBe('127.0.0.1');
    expect(ipOfPeer('[::1]:5000')).toBe('::1');
    expect(ipOfPeer('[::ffff:10.0.0.1]:1')).toBe('::ffff:10.0.0.1');
    expect(ipOfPeer('unix:/tmp/s')).toBe('unix:/tmp/s');
  });
});

describe('the refusal recorder', () => {
  let db: Database;
  const clock = createManualClock(Date.UTC(2026, 0, 1));
  const outbox = createOutbox({ source: 'soul', clock, ids: createIdGenerator(clock, createSeededRandom(3)) });
  const details = { peer: '10.1.2.3:4444', userAgent: 'grpc-node-js/1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
  const method = '/jamey.soul.v1.SoulService/GetEntity';

  const rows = async () => {
    const { rows } = await db.query<{ envelope: Buffer }>('SELECT envelope FROM outbox ORDER BY created_at, event_id');
    return rows.map((row) => {
      const envelope = decodeEnvelope(row.envelope);
      return { type: envelope.type, subject: envelope.subject, data: catalog['soul.call_denied'].schema.decode(envelope.data) };
    });
  };

  beforeAll(async () => {
    db = await openDatabase({ url: 'pglite://memory' });
    await migrate(db, { dir: eventsMigrationsDir, table: eventsMigrationsTable });
  });
  beforeEach(async () => {
    await db.query('DELETE FROM outbox');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('records within the budget, folds the rest into one summary per kind, and refills with time', async () => {
    const registry = new Registry();
    const recorder = createRefusalRecorder({ service: 'soul', db, outbox, clock, logger: silentLogger, metrics: createAccessMetrics(registry), budget: { burst: 2, perSecond: 1 } });
    const results = Array.from({ length: 5 }, () => recorder.record({ method, error: new AuthError('expired'), details }));
    expect(results).toEqual(['recorded', 'recorded', 'folded', 'folded', 'folded']);
    recorder.record({ method, error: new AuthError('caller_not_allowed'), details: { ...details, verifiedCaller: 'gateway' } });
    await recorder.flush();
    // Written concurrently, all in the same millisecond: compare in a fixed order.
    let stored = (await rows()).sort((a, b) => a.data.count - b.data.count || a.data.reason.localeCompare(b.data.reason));
    expect(stored.map((r) => [r.type, r.data.reason, r.data.count])).toEqual([
      ['soul.call_denied', 'expired', 0],
      ['soul.call_denied', 'expired', 0],
      ['soul.call_denied', 'caller_not_allowed', 1],
      ['soul.call_denied', 'expired', 3],
    ]);
    expect(stored[0]!.data).toMatchObject({ action: method, resource: 'soul', ip: '10.1.2.3', userAgent: 'grpc-node-js/1', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', status: 16, actor: '' });
    expect(stored[0]!.subject).toBe('anonymous');
    expect(stored[3]!.data).toMatchObject({ ip: '', userAgent: '', traceId: '' });
    expect(stored[2]).toMatchObject({ subject: 'gateway', data: { actor: 'gateway', callerService: 'gateway', status: 7, outcome: AccessOutcome.ACCESS_OUTCOME_DENIED } });
    // One second later one more record fits.
    clock.advance(1000);
    await db.query('DELETE FROM outbox');
    recorder.record({ method, error: new AuthError('missing'), details });
    recorder.record({ method, error: new AuthError('missing'), details });
    await recorder.flush();
    stored = (await rows()).sort((a, b) => a.data.count - b.data.count);
    expect(stored.map((r) => [r.data.reason, r.data.count])).toEqual([
      ['missing', 0],
      ['missing', 1],
    ]);
    const text = await registry.metrics();
    expect(text).toContain('jamey_security_refusals_total{outcome="unauthenticated",reason="expired"} 5');
    expect(text).toContain('jamey_security_refusals_folded_total 5');
  });

  it('counts a record it could not write instead of failing the call', async () => {
    const registry = new Registry();
    const down = () => Promise.reject(new Error('database down'));
    const broken = { ...db, query: down, transaction: down } as unknown as Database;
    const recorder = createRefusalRecorder({ service: 'soul', db: broken, outbox, clock, logger: silentLogger, metrics: createAccessMetrics(registry) });
    expect(() => recorder.record({ method, error: new Error('not an AuthError'), details })).not.toThrow();
    await recorder.flush();
    expect(await registry.metrics()).toContain('jamey_security_refusal_records_failed_total 1');
    expect(await registry.metrics()).toContain('jamey_security_refusals_total{outcome="unauthenticated",reason="unverifiable"} 1');
  });
});
