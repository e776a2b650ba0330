import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdGenerator, cryptoRandom, isUuidV7, systemClock } from '@jamey/core';
import { describeOnEachDatabase } from '@jamey/data/testing';
import { createEventLog, type EventLog } from '@jamey/events/testing';
import { memory as pb } from '@jamey/proto';
import { checkHealth, createRpcClient, type PromiseClient } from '@jamey/rpc';
import { expectRpcError } from '@jamey/rpc/testing';
import type { RunningService } from '@jamey/service';
import { GRPC_SERVICES } from '@jamey/topology';
import { startMemoryService } from './service.js';

const { MemoryLayer } = pb;

interface Harness {
  client: PromiseClient<typeof pb.MemoryServiceService>;
  events: EventLog<'memory'>;
  running: RunningService;
}

/**
 * A made-up word no other test or run uses, so the Postgres suite can share a database across
 * runs and every search sees only its own test's memories. Letters only, so full-text search
 * keeps it as one lexeme.
 */
function uniqueWord(): string {
  return `zq${[...randomBytes(10)].map((byte) => String.fromCharCode(97 + (byte % 26))).join('')}`;
}

const newUuidV7 = createIdGenerator(systemClock, cryptoRandom);

/** The service suite, run once per database driver. */
function memoryServiceSuite(openDatabaseUrl: () => Promise<{ url: string; cleanup: () => Promise<void> }>): void {
  let cleanup: (() => Promise<void>) | undefined;
  const h = {} as Harness;

  beforeAll(async () => {
    const database = await openDatabaseUrl();
    cleanup = database.cleanup;
    const { transport, log } = await createEventLog({ source: 'memory' });
    h.events = log;
    h.running = await startMemoryService({
      settings: {
        name: 'memory',
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
    h.client = createRpcClient(pb.MemoryServiceService, {
      dependency: 'memory',
      address: `127.0.0.1:${h.running.port}`,
      clock: systemClock,
      defaultTimeoutMs: 20_000,
    });
  });

  afterAll(async () => {
    h.client?.close();
    await h.running?.stop();
    await h.events?.close();
    await cleanup?.();
  });

  const store = (content: string, more: Partial<pb.StoreMemoryRequest> = {}) =>
    h.client.storeMemory({ content, layer: MemoryLayer.MEMORY_LAYER_UNSPECIFIED, tags: [], ...more });

  const search = (query: string, options: { layer?: pb.MemoryLayer; pageSize?: number; pageToken?: string } = {}) =>
    h.client.searchMemories({
      query,
      layer: options.layer ?? MemoryLayer.MEMORY_LAYER_UNSPECIFIED,
      page: { pageSize: options.pageSize ?? 0, pageToken: options.pageToken ?? '' },
    });

  /**
   * Stores a memory and takes its `memory.encoded`. The relay publishes in commit order, so
   * every event committed before it has been delivered to the log by the time this resolves.
   */
  const eventBarrier = async (): Promise<void> => {
    const { memory } = await store(`barrier ${uniqueWord()}`);
    await h.events.next('memory.encoded', memory!.id);
  };

  describe('StoreMemory', () => {
    it('stores trimmed content with defaults under a UUIDv7 id and emits memory.encoded', async () => {
      const word = uniqueWord();
      const before = Date.now();
      const { memory } = await store(`  I met ${word} at the harbour  \n`);
      expect(isUuidV7(memory?.id ?? '')).toBe(true);
      expect(memory).toMatchObject({
        content: `I met ${word} at the harbour`,
        layer: MemoryLayer.MEMORY_LAYER_EPISODIC,
        tags: [],
        importance: 0.5,
      });
      expect(memory?.createTime?.getTime()).toBeGreaterThanOrEqual(before);
      expect(memory?.createTime?.getTime()).toBeLessThanOrEqual(Date.now());

      const event = await h.events.next('memory.encoded', memory!.id);
      expect(event.memory).toEqual(memory);
      expect((await h.client.getMemory({ id: memory!.id })).memory).toEqual(memory);
    });

    it('keeps the given layer and importance (even 0) and trims and de-duplicates tags in order', async () => {
      const { memory } = await store(`how to tie a ${uniqueWord()} knot`, {
        layer: MemoryLayer.MEMORY_LAYER_PROCEDURAL,
        tags: [' knots ', 'sailing', 'knots', 'sailing ', 'rope'],
        importance: 0,
      });
      expect(memory).toMatchObject({ layer: MemoryLayer.MEMORY_LAYER_PROCEDURAL, tags: ['knots', 'sailing', 'rope'], importance: 0 });
      expect((await h.events.next('memory.encoded', memory!.id)).memory).toEqual(memory);
      expect((await h.client.getMemory({ id: memory!.id })).memory).toEqual(memory);
    });

    it('accepts the longest content, 32 tags and 64-character tags', async () => {
      const content = `${uniqueWord()} `.padEnd(10_000, 'x');
      const tags = Array.from({ length: 32 }, (_, i) => `${i}`.padStart(64, 't'));
      const { memory } = await store(content, { tags, importance: 1 });
      expect(memory).toMatchObject({ content, tags, importance: 1 });
      expect((await h.client.getMemory({ id: memory!.id })).memory).toEqual(memory);
    });

    it('rejects bad input with INVALID_ARGUMENT naming the field, storing and emitting nothing', async () => {
      const word = uniqueWord();
      await eventBarrier();
      const encodedBefore = h.events.pending('memory.encoded');

      const tooMany = Array.from({ length: 33 }, (_, i) => `tag${i}`);
      await expectRpcError(store(''), 'INVALID_ARGUMENT', 'content');
      await expectRpcError(store(' \n\t '), 'INVALID_ARGUMENT', 'content');
      await expectRpcError(store(`${word} `.padEnd(10_001, 'x')), 'INVALID_ARGUMENT', 'content');
      await expectRpcError(store(word, { tags: tooMany }), 'INVALID_ARGUMENT', 'tags');
      await expectRpcError(store(word, { tags: ['ok', 't'.repeat(65)] }), 'INVALID_ARGUMENT', 'tags');
      await expectRpcError(store(word, { tags: ['ok', '  '] }), 'INVALID_ARGUMENT', 'tags');
      // PostgreSQL text cannot hold U+0000; it must be refused up front, not fail in the query.
      await expectRpcError(store(`${word} \u0000`), 'INVALID_ARGUMENT', 'content');
      await expectRpcError(store(word, { tags: ['a\u0000b'] }), 'INVALID_ARGUMENT', 'tags');
      for (const importance of [1.5, -0.1, Number.NaN, Infinity]) {
        await expectRpcError(store(word, { importance }), 'INVALID_ARGUMENT', 'importance');
      }
      await expectRpcError(store(word, { layer: 99 as pb.MemoryLayer }), 'INVALID_ARGUMENT', 'layer');

      await eventBarrier();
      expect(h.events.pending('memory.encoded')).toBe(encodedBefore);
      expect((await search(word)).hits).toEqual([]);
    });
  });

  describe('GetMemory', () => {
    it('accepts the id in upper case', async () => {
      const { memory } = await store(`upper ${uniqueWord()}`);
      expect((await h.client.getMemory({ id: memory!.id.toUpperCase() })).memory).toEqual(memory);
    });

    it('answers a repeated read from the in-process cache; without Redis there is no L2', async () => {
      const { memory } = await store(`cached ${uniqueWord()}`);
      const count = async (level: string, result: string): Promise<number> => {
        const text = await (await fetch(`http://127.0.0.1:${h.running.adminPort}/metrics`)).text();
        const line = new RegExp(`^jamey_cache_requests_total\\{[^}]*cache="memory",level="${level}",result="${result}"[^}]*\\} (\\d+)$`, 'm');
        return Number(line.exec(text)?.[1] ?? 0);
      };
      const [misses, hits] = [await count('l1', 'miss'), await count('l1', 'hit')];
      expect((await h.client.getMemory({ id: memory!.id })).memory).toEqual(memory);
      expect((await h.client.getMemory({ id: memory!.id })).memory).toEqual(memory);
      expect([await count('l1', 'miss'), await count('l1', 'hit')]).toEqual([misses + 1, hits + 1]);
      expect(await count('l2', 'miss')).toBe(0);
    });

    it('returns NOT_FOUND for an unknown id and INVALID_ARGUMENT for a malformed one', async () => {
      await expectRpcError(h.client.getMemory({ id: newUuidV7() }), 'NOT_FOUND');
      await expectRpcError(h.client.getMemory({ id: '' }), 'INVALID_ARGUMENT', 'id');
      await expectRpcError(h.client.getMemory({ id: 'not-a-uuid' }), 'INVALID_ARGUMENT', 'id');
    });
  });

  describe('SearchMemories', () => {
    it('ranks denser mentions higher and returns only matching memories', async () => {
      const word = uniqueWord();
      const once = await store(`${word} came up once in a long conversation about many other unrelated things`);
      const thrice = await store(`${word}, ${word} and again ${word}`);
      await store(`nothing to see here ${uniqueWord()}`);

      const { hits, page } = await search(word);
      expect(hits.map((hit) => hit.memory)).toEqual([thrice.memory, once.memory]);
      expect(hits[0]!.rank).toBeGreaterThan(hits[1]!.rank);
      expect(hits[1]!.rank).toBeGreaterThan(0);
      expect(page?.nextPageToken).toBe('');
    });

    it('filters by layer', async () => {
      const word = uniqueWord();
      const fact = await store(`${word} is a fact`, { layer: MemoryLayer.MEMORY_LAYER_SEMANTIC });
      const episode = await store(`I learned about ${word} yesterday`);

      const semantic = await search(word, { layer: MemoryLayer.MEMORY_LAYER_SEMANTIC });
      expect(semantic.hits.map((hit) => hit.memory)).toEqual([fact.memory]);
      const episodic = await search(word, { layer: MemoryLayer.MEMORY_LAYER_EPISODIC });
      expect(episodic.hits.map((hit) => hit.memory)).toEqual([episode.memory]);
      expect((await search(word, { layer: MemoryLayer.MEMORY_LAYER_WORKING })).hits).toEqual([]);
      expect((await search(word)).hits).toHaveLength(2);
    });

    it('pages through every hit exactly once, in rank order, with an empty token at the end', async () => {
      const word = uniqueWord();
      // Three distinct ranks with ties, so pages also cut through hits of equal rank.
      const stored = [];
      for (let i = 0; i < 7; i++) {
        stored.push((await store(`${Array.from({ length: (i % 3) + 1 }, () => word).join(' ')} memory ${i}`)).memory!);
      }
      const pages: pb.SearchHit[][] = [];
      let pageToken = '';
      do {
        const response = await search(word, { pageSize: 3, pageToken });
        pages.push(response.hits);
        pageToken = response.page?.nextPageToken ?? '';
      } while (pageToken !== '' && pages.length < 5);

      expect(pages.map((hits) => hits.length)).toEqual([3, 3, 1]);
      const hits = pages.flat();
      expect(hits.map((hit) => hit.memory?.id).sort()).toEqual(stored.map((memory) => memory.id).sort());
      for (let i = 1; i < hits.length; i++) {
        const [previous, current] = [hits[i - 1]!, hits[i]!];
        expect(current.rank).toBeLessThanOrEqual(previous.rank);
        if (current.rank === previous.rank) expect(current.memory!.id < previous.memory!.id).toBe(true);
      }
      expect(new Set(hits.map((hit) => hit.rank)).size).toBe(3);
    });

    it('understands websearch syntax: "phrases", or, and -exclusions', async () => {
      const [a, b, c] = [uniqueWord(), uniqueWord(), uniqueWord()];
      const adjacent = await store(`${a} ${b} side by side`);
      const apart = await store(`${b} comes first and only then ${a}`);
      const other = await store(`${c} alone`);
      const ids = (response: pb.SearchMemoriesResponse): string[] => response.hits.map((hit) => hit.memory!.id).sort();

      expect(ids(await search(`"${a} ${b}"`))).toEqual([adjacent.memory!.id]);
      expect(ids(await search(`${a} ${b}`))).toEqual([adjacent.memory!.id, apart.memory!.id].sort());
      expect(ids(await search(`${a} or ${c}`))).toEqual([adjacent.memory!.id, apart.memory!.id, other.memory!.id].sort());
      expect(ids(await search(`${a} -first`))).toEqual([adjacent.memory!.id]);
    });

    it('rejects bad queries, page sizes, page tokens and layers with INVALID_ARGUMENT naming the field', async () => {
      const word = uniqueWord();
      await expectRpcError(search(''), 'INVALID_ARGUMENT', 'query');
      await expectRpcError(search('   '), 'INVALID_ARGUMENT', 'query');
      await expectRpcError(search(`${word} `.padEnd(1001, 'x')), 'INVALID_ARGUMENT', 'query');
      await expectRpcError(search(`${word}\u0000`), 'INVALID_ARGUMENT', 'query');
      await expectRpcError(search(word, { pageSize: -1 }), 'INVALID_ARGUMENT', 'page_size');
      await expectRpcError(search(word, { pageToken: 'not-a-token' }), 'INVALID_ARGUMENT', 'page_token');
      // Well-formed JSON in the token's shape, but not a position this service could have issued.
      const forged = Buffer.from(JSON.stringify([0.1, 'not-a-uuid'])).toString('base64url');
      await expectRpcError(search(word, { pageToken: forged }), 'INVALID_ARGUMENT', 'page_token');
      await expectRpcError(search(word, { layer: 99 as pb.MemoryLayer }), 'INVALID_ARGUMENT', 'layer');
      // The longest query is fine.
      expect((await search(`${word} `.padEnd(1000, 'x'))).hits).toEqual([]);
    });
  });

  describe('DeleteMemory', () => {
    it('deletes a memory and emits memory.deleted once; deleting it again is NOT_FOUND', async () => {
      const word = uniqueWord();
      const { memory } = await store(`forget ${word}`);
      const id = memory!.id;
      await h.events.next('memory.encoded', id);

      expect(await h.client.deleteMemory({ id })).toEqual({});
      expect(await h.events.next('memory.deleted', id)).toEqual({ memoryId: id });
      await expectRpcError(h.client.getMemory({ id }), 'NOT_FOUND');
      expect((await search(word)).hits).toEqual([]);

      await expectRpcError(h.client.deleteMemory({ id }), 'NOT_FOUND');
      await eventBarrier();
      expect(h.events.pending('memory.deleted', id)).toBe(0);
    });

    it('returns NOT_FOUND for an unknown id and INVALID_ARGUMENT for a malformed one', async () => {
      await expectRpcError(h.client.deleteMemory({ id: newUuidV7() }), 'NOT_FOUND');
      await expectRpcError(h.client.deleteMemory({ id: 'nope' }), 'INVALID_ARGUMENT', 'id');
    });
  });

  describe('operations', () => {
    it('reports SERVING over grpc health, for the server and for MemoryService', async () => {
      const address = `127.0.0.1:${h.running.port}`;
      expect(await checkHealth(address, '', 5000)).toEqual({ status: 'SERVING' });
      expect(await checkHealth(address, GRPC_SERVICES.memory, 5000)).toEqual({ status: 'SERVING' });
    });

    it('answers /healthz, /readyz (with the database check) and /metrics on the admin port', async () => {
      const admin = `http://127.0.0.1:${h.running.adminPort}`;
      expect((await fetch(`${admin}/healthz`)).status).toBe(200);

      const ready = await fetch(`${admin}/readyz`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { status: string; checks: unknown };
      expect(body.status).toBe('ready');
      expect(JSON.stringify(body.checks)).toContain('database');

      const metrics = await fetch(`${admin}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toContain('text/plain');
      const text = await metrics.text();
      expect(text).toMatch(/^process_cpu_user_seconds_total\{service="memory"\} /m);
      // The database sits behind its breaker, and the breaker has seen this suite's successes.
      expect(text).toMatch(/^jamey_circuit_breaker_state\{[^}]*dependency="postgres"[^}]*state="closed"[^}]*\} 1$/m);
      expect(text).toMatch(/^jamey_circuit_breaker_calls_total\{[^}]*dependency="postgres"[^}]*outcome="success"[^}]*\} [1-9]/m);
    });
  });
}

describeOnEachDatabase('memory service over gRPC', 'MEMORY_DATABASE_URL', memoryServiceSuite);
