import { createIdGenerator, createManualClock, createSeededRandom } from '@jamey/core';
import type { Queryable } from '@jamey/data';
import { catalog, createOutbox, decodeEnvelope, decodeEventData, type ConsumedEvent } from '@jamey/events';
import { describe, expect, it } from 'vitest';
import { auditTopics, toAuditEntry } from './audit-consumer.js';

describe('auditTopics', () => {
  it('is every producer topic from the topology, and audit\'s own (its refused calls)', () => {
    expect(auditTopics()).toEqual(['jamey.audit.events.v1', 'jamey.consciousness.events.v1', 'jamey.gateway.events.v1', 'jamey.memory.events.v1', 'jamey.soul.events.v1', 'jamey.telemetry.events.v1']);
  });
});

describe('toAuditEntry', () => {
  it('keeps the envelope byte for byte and the payload as canonical JSON', async () => {
    const clock = createManualClock();
    const outbox = createOutbox({ source: 'soul', clock, ids: createIdGenerator(clock, createSeededRandom(1)) });
    let written: Buffer | undefined;
    const tx: Queryable = {
      async query(_sql, params) {
        written = params?.[3] as Buffer;
        return { rows: [], rowCount: 1 };
      },
    };
    await outbox.append(tx, {
      definition: catalog['soul.trust_changed'],
      subject: 'entity-1',
      data: { entityId: 'entity-1', previousTrust: 0.25, trust: 0.5, interactionId: 'i-1', valence: -0.5 },
    });
    // A newer producer's field (number 99, varint 1) that this build does not know.
    const arrived = Buffer.concat([written!, Buffer.from([0x98, 0x06, 0x01])]);
    const envelope = decodeEnvelope(arrived);
    const decoded = decodeEventData(envelope);
    const event = {
      ...decoded,
      type: decoded.definition.type,
      envelope,
      value: arrived,
      topic: 'jamey.soul.events.v1',
      partition: 0,
      offset: '0',
      headers: {},
      signal: new AbortController().signal,
    } as ConsumedEvent;

    const entry = toAuditEntry(event);
    expect(Buffer.from(entry.envelope).equals(arrived)).toBe(true);
    expect(entry).toMatchObject({
      eventId: envelope.id,
      type: 'soul.trust_changed',
      source: 'soul',
      subject: 'entity-1',
      eventTime: new Date(clock.now()),
      dataSchema: 'jamey.soul.v1.TrustChanged',
      topic: 'jamey.soul.events.v1',
    });
    expect(JSON.parse(entry.dataJson!)).toEqual({ entityId: 'entity-1', previousTrust: 0.25, trust: 0.5, interactionId: 'i-1', valence: -0.5 });
  });
});
