import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUuidV7, systemClock } from '@jamey/core';
import { describeOnEachDatabase } from '@jamey/data/testing';
import { createEventLog, type EventLog } from '@jamey/events/testing';
import { soul as pb } from '@jamey/proto';
import { createRpcClient, type PromiseClient } from '@jamey/rpc';
import { expectRpcError } from '@jamey/rpc/testing';
import type { RunningService } from '@jamey/service';
import { INITIAL_TRUST, nextTrust } from './domain/trust.js';
import { startSoulService } from './service.js';

interface Harness {
  client: PromiseClient<typeof pb.SoulServiceService>;
  events: EventLog<'soul'>;
}

let uniqueCounter = 0;
/** Entity ids unique per run, so the Postgres suite can share a database across runs safely. */
function entityId(prefix: string): string {
  uniqueCounter += 1;
  return `${prefix}:${Date.now().toString(36)}.${uniqueCounter}`;
}

/** The service suite, run once per database driver. */
function soulServiceSuite(openDatabaseUrl: () => Promise<{ url: string; cleanup: () => Promise<void> }>): void {
  let running: RunningService | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  const h = {} as Harness;

  beforeAll(async () => {
    const database = await openDatabaseUrl();
    cleanup = database.cleanup;
    const { transport, log } = await createEventLog({ source: 'soul' });
    h.events = log;
    running = await startSoulService({
      settings: {
        name: 'soul',
        host: '127.0.0.1',
        port: 0,
        adminPort: 0,
        databaseUrl: database.url,
        databasePoolSize: 10,
        logLevel: 'silent',
        shutdownGraceMs: 1000,
      },
      transport,
    });
    h.client = createRpcClient(pb.SoulServiceService, {
      dependency: 'soul',
      address: `127.0.0.1:${running.port}`,
      clock: systemClock,
      defaultTimeoutMs: 20_000,
    });
  });

  afterAll(async () => {
    h.client?.close();
    await running?.stop();
    await h.events?.close();
    await cleanup?.();
  });

  describe('UpsertEntity', () => {
    it('creates an entity with neutral trust and emits soul.entity_upserted', async () => {
      const id = entityId('user');
      const response = await h.client.upsertEntity({ id, name: '  Ada Lovelace ' });
      expect(response.created).toBe(true);
      expect(response.entity).toMatchObject({ id, name: 'Ada Lovelace', trust: INITIAL_TRUST, interactionCount: 0 });
      expect(response.entity?.createTime).toBeInstanceOf(Date);
      expect(response.entity?.updateTime?.getTime()).toBe(response.entity?.createTime?.getTime());

      const event = await h.events.next('soul.entity_upserted', id);
      expect(event.created).toBe(true);
      expect(event.entity).toMatchObject({ id, name: 'Ada Lovelace', trust: INITIAL_TRUST, interactionCount: 0 });

      const read = await h.client.getEntity({ id });
      expect(read.entity).toEqual(response.entity);
    });

    it('renames an existing entity (created=false) and emits; an identical upsert is a silent no-op', async () => {
      const id = entityId('agent');
      const created = await h.client.upsertEntity({ id, name: 'First' });
      await h.events.next('soul.entity_upserted', id);

      const same = await h.client.upsertEntity({ id, name: ' First ' });
      expect(same.created).toBe(false);
      expect(same.entity).toEqual(created.entity);

      const renamed = await h.client.upsertEntity({ id, name: 'Second' });
      expect(renamed.created).toBe(false);
      expect(renamed.entity).toMatchObject({ id, name: 'Second', trust: INITIAL_TRUST, interactionCount: 0 });
      expect(renamed.entity?.createTime).toEqual(created.entity?.createTime);

      // Events for one subject arrive in commit order: had the no-op emitted, it would come first.
      const event = await h.events.next('soul.entity_upserted', id);
      expect(event.created).toBe(false);
      expect(event.entity?.name).toBe('Second');
      expect((await h.client.getEntity({ id })).entity?.name).toBe('Second');
    });

    it('creates an entity once when many callers upsert it concurrently', async () => {
      const id = entityId('race');
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => h.client.upsertEntity({ id, name: 'Racer' })),
      );
      expect(responses.filter((r) => r.created)).toHaveLength(1);
      const event = await h.events.next('soul.entity_upserted', id);
      expect(event.created).toBe(true);
    });

    it('rejects bad ids and names with INVALID_ARGUMENT naming the field', async () => {
      await expectRpcError(h.client.upsertEntity({ id: '', name: 'x' }), 'INVALID_ARGUMENT', 'id');
      await expectRpcError(h.client.upsertEntity({ id: 'has space', name: 'x' }), 'INVALID_ARGUMENT', 'id');
      await expectRpcError(h.client.upsertEntity({ id: 'a/b', name: 'x' }), 'INVALID_ARGUMENT', 'id');
      await expectRpcError(h.client.upsertEntity({ id: 'x'.repeat(129), name: 'x' }), 'INVALID_ARGUMENT', 'id');
      await expectRpcError(h.client.upsertEntity({ id: 'ok', name: '   ' }), 'INVALID_ARGUMENT', 'name');
      await expectRpcError(h.client.upsertEntity({ id: 'ok', name: 'n'.repeat(201) }), 'INVALID_ARGUMENT', 'name');
    });

    it('accepts the longest id and name', async () => {
      const id = `${entityId('long')}-`.padEnd(128, 'x');
      const response = await h.client.upsertEntity({ id, name: 'n'.repeat(200) });
      expect(response.entity?.id).toBe(id);
      expect(response.entity?.name).toHaveLength(200);
    });
  });

  describe('RecordInteraction', () => {
    it('moves trust by the rule, records the interaction and emits soul.trust_changed', async () => {
      const id = entityId('friend');
      await h.client.upsertEntity({ id, name: 'Friend' });
      const first = await h.client.recordInteraction({ entityId: id, valence: 1, note: ' helped me ' });
      expect(first.entity).toMatchObject({ id, trust: nextTrust(INITIAL_TRUST, 1), interactionCount: 1 });
      expect(first.entity?.trust).toBeCloseTo(0.6, 12);
      expect(first.interaction).toMatchObject({
        entityId: id,
        valence: 1,
        note: 'helped me',
        trustBefore: INITIAL_TRUST,
        trustAfter: first.entity?.trust,
      });
      expect(isUuidV7(first.interaction?.id ?? '')).toBe(true);

      const second = await h.client.recordInteraction({ entityId: id, valence: -0.5, note: '' });
      expect(second.entity?.trust).toBe(nextTrust(nextTrust(INITIAL_TRUST, 1), -0.5));
      expect(second.entity?.interactionCount).toBe(2);
      expect(second.interaction?.trustBefore).toBe(first.entity?.trust);

      const e1 = await h.events.next('soul.trust_changed', id);
      expect(e1).toEqual({
        entityId: id,
        previousTrust: INITIAL_TRUST,
        trust: first.entity?.trust,
        interactionId: first.interaction?.id,
        valence: 1,
      });
      const e2 = await h.events.next('soul.trust_changed', id);
      expect(e2).toMatchObject({ previousTrust: first.entity?.trust, trust: second.entity?.trust, interactionId: second.interaction?.id });

      expect((await h.client.getEntity({ id })).entity).toEqual(second.entity);
    });

    it('records a neutral interaction without moving trust or emitting soul.trust_changed', async () => {
      const id = entityId('neutral');
      await h.client.upsertEntity({ id, name: 'Neutral' });
      const neutral = await h.client.recordInteraction({ entityId: id, valence: 0, note: 'meh' });
      expect(neutral.entity).toMatchObject({ trust: INITIAL_TRUST, interactionCount: 1 });
      expect(neutral.interaction).toMatchObject({ trustBefore: INITIAL_TRUST, trustAfter: INITIAL_TRUST });

      const moved = await h.client.recordInteraction({ entityId: id, valence: -1, note: '' });
      // The first trust_changed for this entity is the second interaction's: the neutral one emitted none.
      const event = await h.events.next('soul.trust_changed', id);
      expect(event.interactionId).toBe(moved.interaction?.id);
      expect(event.previousTrust).toBe(INITIAL_TRUST);
      expect(moved.entity?.interactionCount).toBe(2);
    });

    it('loses no update under 20 concurrent interactions on one entity', async () => {
      const id = entityId('busy');
      await h.client.upsertEntity({ id, name: 'Busy' });
      const n = 20;
      const valence = 0.5;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => h.client.recordInteraction({ entityId: id, valence, note: `#${i}` })),
      );
      let expected = INITIAL_TRUST;
      for (let i = 0; i < n; i++) expected = nextTrust(expected, valence);

      const entity = (await h.client.getEntity({ id })).entity;
      expect(entity?.interactionCount).toBe(n);
      expect(entity?.trust).toBe(expected);
      // Serialized by the row lock: every interaction saw a distinct trust_before, forming one chain.
      const chain = results.map((r) => r.interaction!).sort((a, b) => a.trustBefore - b.trustBefore);
      expect(new Set(chain.map((i) => i.trustBefore)).size).toBe(n);
      for (let i = 1; i < n; i++) expect(chain[i]!.trustBefore).toBe(chain[i - 1]!.trustAfter);
      expect(new Set(results.map((r) => r.entity?.interactionCount))).toEqual(new Set(Array.from({ length: n }, (_, i) => i + 1)));

      const events = [];
      for (let i = 0; i < n; i++) events.push(await h.events.next('soul.trust_changed', id));
      expect(new Set(events.map((e) => e.interactionId))).toEqual(new Set(results.map((r) => r.interaction?.id)));
      expect(events.at(-1)?.trust).toBe(expected);
    });

    it('returns NOT_FOUND for an unknown entity', async () => {
      await expectRpcError(h.client.recordInteraction({ entityId: entityId('ghost'), valence: 0.5, note: '' }), 'NOT_FOUND');
    });

    it('rejects bad entity ids, valences and notes with INVALID_ARGUMENT naming the field', async () => {
      const id = entityId('strict');
      await h.client.upsertEntity({ id, name: 'Strict' });
      await expectRpcError(h.client.recordInteraction({ entityId: '', valence: 0, note: '' }), 'INVALID_ARGUMENT', 'entity_id');
      await expectRpcError(h.client.recordInteraction({ entityId: 'bad id', valence: 0, note: '' }), 'INVALID_ARGUMENT', 'entity_id');
      for (const valence of [Number.NaN, Infinity, -Infinity, 1.5, -1.01]) {
        await expectRpcError(h.client.recordInteraction({ entityId: id, valence, note: '' }), 'INVALID_ARGUMENT', 'valence');
      }
      await expectRpcError(h.client.recordInteraction({ entityId: id, valence: 0.1, note: 'n'.repeat(1001) }), 'INVALID_ARGUMENT', 'note');
      // Nothing was recorded by the rejected calls.
      expect((await h.client.getEntity({ id })).entity?.interactionCount).toBe(0);
    });
  });

  describe('GetEntity', () => {
    it('returns NOT_FOUND for an unknown entity and INVALID_ARGUMENT for a malformed id', async () => {
      await expectRpcError(h.client.getEntity({ id: entityId('nobody') }), 'NOT_FOUND');
      await expectRpcError(h.client.getEntity({ id: '' }), 'INVALID_ARGUMENT', 'id');
      await expectRpcError(h.client.getEntity({ id: 'no spaces' }), 'INVALID_ARGUMENT', 'id');
    });
  });
}

describeOnEachDatabase('soul service over gRPC', 'SOUL_DATABASE_URL', soulServiceSuite);
