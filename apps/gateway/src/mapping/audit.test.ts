import type { audit as pb } from '@jamey/proto';
import { describe, expect, it } from 'vitest';
import { auditRecordToJson, queryRecordsRequest, queryRecordsResult } from './audit.js';

const t0 = new Date('2026-01-02T03:04:05.678Z');
const record: pb.AuditRecord = {
  sequence: 12,
  eventId: '0190a0b0-c0d0-7e00-8f00-0000000000ee',
  type: 'memory.encoded',
  source: 'memory',
  subject: 'm-1',
  eventTime: t0,
  recordTime: t0,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  dataSchema: 'jamey.memory.v1.MemoryEncoded',
  dataJson: '{"memory":{"id":"m-1"}}',
  topic: 'jamey.memory.events.v1',
};

describe('audit mapping', () => {
  it('maps filters and times; absent filters are empty strings', () => {
    expect(queryRecordsRequest({})).toEqual({
      type: '',
      source: '',
      subject: '',
      startTime: undefined,
      endTime: undefined,
      page: { pageSize: 0, pageToken: '' },
      actor: undefined,
      action: undefined,
      resource: undefined,
      outcome: undefined,
    });
    expect(queryRecordsRequest({ actor: 'alice', action: 'GET /v1/memories', resource: '/v1/memories', outcome: 'denied' })).toMatchObject({
      actor: 'alice',
      action: 'GET /v1/memories',
      resource: '/v1/memories',
      outcome: 'denied',
    });
    const request = queryRecordsRequest({
      type: 'memory.encoded',
      source: 'memory',
      subject: 's',
      startTime: '2026-01-01T00:00:00Z',
      endTime: '2026-01-02T00:00:00+02:00',
      pageSize: 500,
      pageToken: 'p',
    });
    expect(request.startTime?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(request.endTime?.toISOString()).toBe('2026-01-01T22:00:00.000Z');
    expect(request.page).toEqual({ pageSize: 500, pageToken: 'p' });
  });

  it('maps a record with its payload parsed', () => {
    expect(auditRecordToJson(record)).toEqual({
      sequence: 12,
      eventId: record.eventId,
      type: 'memory.encoded',
      source: 'memory',
      subject: 'm-1',
      eventTime: '2026-01-02T03:04:05.678Z',
      recordTime: '2026-01-02T03:04:05.678Z',
      traceparent: record.traceparent,
      dataSchema: 'jamey.memory.v1.MemoryEncoded',
      data: { memory: { id: 'm-1' } },
      topic: 'jamey.memory.events.v1',
    });
  });

  it('leaves out an unknown, unparsable or non-object payload and an empty traceparent', () => {
    for (const dataJson of ['', 'not json', '[1]', 'null', '3']) {
      expect(auditRecordToJson({ ...record, dataJson }).data, dataJson).toBeUndefined();
    }
    expect(auditRecordToJson({ ...record, traceparent: '' }).traceparent).toBeUndefined();
  });

  it('refuses a time outside the protobuf Timestamp range, which an offset can produce', () => {
    for (const [startTime, ok] of [
      ['0001-01-01T00:00:00Z', true],
      ['0001-01-01T00:00:00+00:03', false],
      ['9999-12-31T23:59:59Z', true],
      ['9999-12-31T23:59:59-01:00', false],
    ] as const) {
      const call = () => queryRecordsRequest({ startTime });
      if (ok) expect(call, startTime).not.toThrow();
      else expect(call, startTime).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: expect.objectContaining({ field: 'query.startTime' }) }));
    }
  });

  it('maps the access columns of an access record, and refuses an outcome the API does not know', () => {
    const access = { ...record, actor: 'alice', action: 'GET /v1/memories', resource: '/v1/memories', outcome: 'throttled' };
    expect(auditRecordToJson(access)).toMatchObject({ actor: 'alice', action: 'GET /v1/memories', resource: '/v1/memories', outcome: 'throttled' });
    expect(auditRecordToJson(record).outcome).toBeUndefined();
    expect(() => auditRecordToJson({ ...record, outcome: 'maybe' })).toThrow(/unknown access outcome/);
  });

  it('maps a page of records', () => {
    const result = queryRecordsResult({ records: [record], page: { nextPageToken: 'n' } });
    expect(result.items).toHaveLength(1);
    expect(result.nextPageToken).toBe('n');
    expect(queryRecordsResult({ records: [], page: { nextPageToken: '' } }).nextPageToken).toBeUndefined();
  });
});
