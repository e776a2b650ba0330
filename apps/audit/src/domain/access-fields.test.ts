import { describe, expect, it } from 'vitest';
import { ACCESS_COLUMN_MAX_CHARS, ACCESS_RECORD_SCHEMA, accessFieldsOf, NO_ACCESS_FIELDS } from './access-fields.js';

describe('accessFieldsOf', () => {
  it('takes actor, action, resource and outcome from an access record payload', () => {
    const json = JSON.stringify({
      actor: 'gateway',
      action: '/jamey.memory.v1.MemoryService/GetMemory',
      resource: 'memory',
      outcome: 'ACCESS_OUTCOME_DENIED',
      status: 7,
      reason: 'caller_not_allowed',
    });
    expect(accessFieldsOf(ACCESS_RECORD_SCHEMA, json)).toEqual({
      actor: 'gateway',
      action: '/jamey.memory.v1.MemoryService/GetMemory',
      resource: 'memory',
      outcome: 'denied',
    });
  });

  it('leaves defaults (absent in canonical JSON) and unknown outcomes null', () => {
    expect(accessFieldsOf(ACCESS_RECORD_SCHEMA, '{"action":"GET /v1/memories"}')).toEqual({ ...NO_ACCESS_FIELDS, action: 'GET /v1/memories' });
    expect(accessFieldsOf(ACCESS_RECORD_SCHEMA, '{"outcome":"ACCESS_OUTCOME_UNSPECIFIED"}').outcome).toBeNull();
    expect(accessFieldsOf(ACCESS_RECORD_SCHEMA, '{"outcome":9}').outcome).toBeNull();
    expect(accessFieldsOf(ACCESS_RECORD_SCHEMA, '{"outcome":"allowed"}').outcome).toBeNull();
  });

  it('gives other schemas, missing JSON and broken JSON no access fields', () => {
    expect(accessFieldsOf('jamey.memory.v1.MemoryEncoded', '{"actor":"x"}')).toBe(NO_ACCESS_FIELDS);
    expect(accessFieldsOf(ACCESS_RECORD_SCHEMA, null)).toBe(NO_ACCESS_FIELDS);
    expect(accessFieldsOf(ACCESS_RECORD_SCHEMA, '{')).toBe(NO_ACCESS_FIELDS);
    expect(accessFieldsOf(ACCESS_RECORD_SCHEMA, '[1]')).toBe(NO_ACCESS_FIELDS);
    expect(accessFieldsOf(ACCESS_RECORD_SCHEMA, '"x"')).toBe(NO_ACCESS_FIELDS);
  });

  it('cuts long values by code points and replaces NUL, which Postgres text cannot hold', () => {
    const long = '😀'.repeat(ACCESS_COLUMN_MAX_CHARS + 10);
    const fields = accessFieldsOf(ACCESS_RECORD_SCHEMA, JSON.stringify({ actor: long, resource: 'a\u0000b', action: 42 }));
    expect(Array.from(fields.actor!)).toHaveLength(ACCESS_COLUMN_MAX_CHARS);
    expect(fields.actor).toBe('😀'.repeat(ACCESS_COLUMN_MAX_CHARS));
    expect(fields.resource).toBe('a\uFFFDb');
    expect(fields.action).toBeNull();
  });
});
