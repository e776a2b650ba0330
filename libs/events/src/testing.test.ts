import { describe, expect, it } from 'vitest';
import { common } from '@jamey/proto';
import { catalog, type CatalogDefinition, type EventData, type EventType } from './catalog.js';
import { createEventLog } from './testing.js';
import type { EventTransport } from './transport.js';

let counter = 0;

/** Publishes one catalog event the way the relay does: an encoded envelope keyed by subject. */
async function publish<K extends EventType>(
  transport: EventTransport,
  type: K,
  subject: string,
  data: EventData<K>,
  options: { id?: string; source?: string; key?: string } = {},
): Promise<void> {
  const definition = catalog[type] as CatalogDefinition;
  counter += 1;
  const envelope: common.EventEnvelope = {
    id: options.id ?? `event-${counter}`,
    type,
    source: options.source ?? definition.source,
    time: new Date(0),
    subject,
    traceparent: '',
    tracestate: '',
    dataSchema: definition.dataSchema,
    data: Buffer.from((definition.schema as { encode(m: unknown): { finish(): Uint8Array } }).encode(data).finish()),
  };
  await transport.send(definition.topic, [
    { key: options.key ?? subject, value: Buffer.from(common.EventEnvelope.encode(envelope).finish()), headers: {} },
  ]);
}

describe('createEventLog', () => {
  it('queues events per type and subject, hands them out in order, and waits for ones not yet sent', async () => {
    const { transport, log } = await createEventLog({ source: 'memory' });
    try {
      await publish(transport, 'memory.deleted', 'm1', { memoryId: 'first' });
      await publish(transport, 'memory.deleted', 'm2', { memoryId: 'other subject' });
      await publish(transport, 'memory.deleted', 'm1', { memoryId: 'second' });
      expect(log.pending('memory.deleted', 'm1')).toBe(2);
      expect(log.pending('memory.deleted')).toBe(3);
      expect(log.pending('memory.encoded')).toBe(0);

      expect(await log.next('memory.deleted', 'm1')).toEqual({ memoryId: 'first' });
      expect(await log.next('memory.deleted', 'm1')).toEqual({ memoryId: 'second' });
      const waiting = log.next('memory.deleted', 'm1');
      await publish(transport, 'memory.deleted', 'm1', { memoryId: 'third' });
      expect(await waiting).toEqual({ memoryId: 'third' });
      expect(log.pending('memory.deleted')).toBe(1);
    } finally {
      await log.close();
    }
  });

  it('drops redelivered event ids and rejects a missing event after the timeout', async () => {
    const { transport, log } = await createEventLog({ source: 'memory' });
    try {
      await publish(transport, 'memory.deleted', 'm1', { memoryId: 'once' }, { id: 'same' });
      await publish(transport, 'memory.deleted', 'm1', { memoryId: 'once' }, { id: 'same' });
      expect(log.pending('memory.deleted', 'm1')).toBe(1);
      await log.next('memory.deleted', 'm1');
      await expect(log.next('memory.deleted', 'm1', 20)).rejects.toThrow(/no memory.deleted event for m1 within 20 ms/);
    } finally {
      await log.close();
    }
  });

  it('fails the send of an envelope from another source or keyed by something other than its subject', async () => {
    const { transport, log } = await createEventLog({ source: 'memory' });
    try {
      await expect(publish(transport, 'memory.deleted', 'm1', { memoryId: 'x' }, { source: 'soul' })).rejects.toThrow(
        /unexpected envelope/,
      );
      await expect(publish(transport, 'memory.deleted', 'm1', { memoryId: 'x' }, { key: 'm2' })).rejects.toThrow(
        /unexpected envelope/,
      );
      expect(log.pending('memory.deleted')).toBe(0);
    } finally {
      await log.close();
    }
  });
});
