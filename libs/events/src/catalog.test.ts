import { existsSync, readdirSync } from 'node:fs';
import { common, memoryEvents, soulEvents } from '@jamey/proto';
import { describe, expect, it } from 'vitest';
import {
  ACCESS_RECORD_SCHEMA,
  catalog,
  deadLetterTopicFor,
  decodeEnvelope,
  decodeEventData,
  defineEvent,
  EventDecodeError,
  eventDataToJson,
  eventsMigrationsDir,
  findEventDefinition,
  topicFor,
} from './index.js';

function envelopeOf(type: string, data: Uint8Array, dataSchema = ''): common.EventEnvelope {
  return common.EventEnvelope.fromPartial({ id: '0190a000-0000-7000-8000-000000000001', type, source: 'memory', subject: 'm1', dataSchema, data: Buffer.from(data) });
}

describe('catalog', () => {
  it('lists every event with its source, topic and fully qualified schema', () => {
    expect(Object.keys(catalog).sort()).toEqual([
      'audit.call_denied',
      'consciousness.call_denied',
      'consciousness.focus_changed',
      'consciousness.perceived',
      'gateway.request_completed',
      'memory.call_denied',
      'memory.deleted',
      'memory.encoded',
      'soul.call_denied',
      'soul.entity_upserted',
      'soul.trust_changed',
      'telemetry.alert_fired',
      'telemetry.alert_resolved',
      'telemetry.call_denied',
    ]);
    for (const definition of Object.values(catalog)) {
      expect(definition.topic).toBe(`jamey.${definition.source}.events.v1`);
      expect(definition.type.startsWith(`${definition.source}.`)).toBe(true);
      // Access events share audit's AccessRecord; every other payload is its producer's own.
      const owner = definition.dataSchema === ACCESS_RECORD_SCHEMA ? 'audit' : definition.source;
      expect(definition.dataSchema).toMatch(new RegExp(`^jamey\\.${owner}\\.v1\\.[A-Z]\\w+$`));
    }
    expect(catalog['memory.call_denied'].dataSchema).toBe('jamey.audit.v1.AccessRecord');
    expect(catalog['soul.trust_changed'].schema).toBe(soulEvents.TrustChanged);
  });

  it('names topics and dead-letter topics', () => {
    expect(topicFor('memory')).toBe('jamey.memory.events.v1');
    expect(deadLetterTopicFor('audit')).toBe('jamey.audit.dlq.v1');
  });

  it('rejects a type that does not belong to its source', () => {
    expect(() => defineEvent({ type: 'soul.x', source: 'memory', dataSchema: 'x', schema: memoryEvents.MemoryDeleted })).toThrow(TypeError);
    expect(() => defineEvent({ type: 'memory.Bad-Name', source: 'memory', dataSchema: 'x', schema: memoryEvents.MemoryDeleted })).toThrow(TypeError);
  });

  it('decodes an envelope and its typed payload', () => {
    const data = memoryEvents.MemoryDeleted.encode({ memoryId: 'm-42' }).finish();
    const bytes = common.EventEnvelope.encode(envelopeOf('memory.deleted', data, 'jamey.memory.v1.MemoryDeleted')).finish();
    const decoded = decodeEventData(decodeEnvelope(bytes));
    expect(decoded.definition).toBe(catalog['memory.deleted']);
    expect(decoded.type).toBe('memory.deleted');
    if (decoded.type === 'memory.deleted') expect(decoded.data.memoryId).toBe('m-42');
    expect(findEventDefinition('toString')).toBeUndefined();
  });

  it('fails with typed reasons on malformed envelopes, unknown types and bad payloads', () => {
    const reasonOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(EventDecodeError);
        return (error as EventDecodeError).reason;
      }
      return 'no error';
    };
    expect(reasonOf(() => decodeEnvelope(Buffer.from('definitely not protobuf \xff\xff\xff')))).toBe('malformed_envelope');
    expect(reasonOf(() => decodeEnvelope(common.EventEnvelope.encode(envelopeOf('', new Uint8Array())).finish()))).toBe(
      'malformed_envelope',
    );
    expect(reasonOf(() => decodeEventData(envelopeOf('memory.exploded', new Uint8Array())))).toBe('unknown_type');
    // Field 1 declared as a 100-byte string, but the buffer ends after 2 bytes.
    expect(reasonOf(() => decodeEventData(envelopeOf('memory.deleted', Uint8Array.from([0x0a, 100, 0x41]))))).toBe(
      'undecodable_data',
    );
    expect(reasonOf(() => decodeEventData(envelopeOf('memory.deleted', new Uint8Array(), 'jamey.soul.v1.TrustChanged')))).toBe(
      'undecodable_data',
    );
  });

  it('renders payloads as canonical JSON for audit, or undefined when unknown', () => {
    const data = soulEvents.TrustChanged.encode({ entityId: 'e1', previousTrust: 0.5, trust: 0.75, interactionId: 'i1', valence: 1 }).finish();
    expect(JSON.parse(eventDataToJson(envelopeOf('soul.trust_changed', data))!)).toEqual({
      entityId: 'e1',
      previousTrust: 0.5,
      trust: 0.75,
      interactionId: 'i1',
      valence: 1,
    });
    expect(eventDataToJson(envelopeOf('soul.unknown', data))).toBeUndefined();
  });

  it('ships its migrations beside the package, not inside src', () => {
    expect(existsSync(eventsMigrationsDir)).toBe(true);
    expect(eventsMigrationsDir.endsWith('/libs/events/migrations')).toBe(true);
    expect(readdirSync(eventsMigrationsDir)).toContain('0001_outbox.sql');
  });
});
