import { invalidArgument, isUuid, notFound, type Clock, type IdGenerator } from '@jamey/core';
import type { Database, Queryable } from '@jamey/data';
import { catalog, type Outbox } from '@jamey/events';
import {
  decodeCursor,
  encodeCursor,
  pageSize,
  validateQuery,
  validateStoreInput,
  type Memory,
  type MemoryLayer,
  type SearchCursor,
  type StoreMemoryInput,
} from './memory.js';
import { toProtoMemory } from './proto-mapping.js';

/** Where memories are kept. Implemented by the Postgres adapter. */
export interface MemoryRepository {
  insert(tx: Queryable, memory: Memory, signal?: AbortSignal): Promise<void>;
  get(id: string, signal?: AbortSignal): Promise<Memory | undefined>;
  /** Deletes a memory; false when it did not exist. */
  delete(tx: Queryable, id: string, signal?: AbortSignal): Promise<boolean>;
  search(
    query: { text: string; layer?: MemoryLayer | undefined; after?: SearchCursor | undefined; limit: number },
    signal?: AbortSignal,
  ): Promise<{ memory: Memory; rank: number }[]>;
}

/**
 * A read-through cache of memories by id. Implemented by the Redis adapter (L1 in process, L2 in
 * Redis, invalidated on every replica); without it every read goes to the repository.
 */
export interface MemoryCache {
  /** The memory `id`, from the cache or else from `load` (whose errors are passed on, never cached). */
  get(id: string, load: (signal: AbortSignal) => Promise<Memory>, signal?: AbortSignal): Promise<Memory>;
  /** Forgets `id` on every replica; called after the change committed. Never fails. */
  invalidate(id: string): Promise<void>;
}

/** No cache: every read loads. */
const NO_CACHE: MemoryCache = {
  get: (_id, load, signal) => load(signal ?? new AbortController().signal),
  invalidate: async () => undefined,
};

/** A page of search hits. */
export interface SearchPage {
  readonly hits: readonly { memory: Memory; rank: number }[];
  /** Empty when there are no more hits. */
  readonly nextPageToken: string;
}

/** Dependencies of {@link createMemoryService}. */
export interface MemoryServiceDeps {
  readonly db: Pick<Database, 'transaction'>;
  readonly repository: MemoryRepository;
  readonly outbox: Outbox;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Called after a commit that wrote events, so the relay publishes them at once. */
  readonly onEventsCommitted: () => void;
  /** Caches `get`. Default: none. */
  readonly cache?: MemoryCache | undefined;
}

/** Jamey's memory: store, recall by id, full-text search and forget. */
export function createMemoryService(deps: MemoryServiceDeps) {
  const { db, repository, outbox, clock, ids } = deps;
  const cache = deps.cache ?? NO_CACHE;

  function requireId(id: string): string {
    if (!isUuid(id)) throw invalidArgument('id', 'id must be a UUID');
    return id.toLowerCase();
  }

  return {
    /** Stores a memory and emits `memory.encoded` in the same transaction. */
    async store(input: StoreMemoryInput, signal?: AbortSignal): Promise<Memory> {
      const valid = validateStoreInput(input);
      const memory: Memory = { id: ids(), ...valid, createdAt: new Date(clock.now()) };
      await db.transaction(async (tx) => {
        await repository.insert(tx, memory, signal);
        const event = { definition: catalog['memory.encoded'], subject: memory.id, data: { memory: toProtoMemory(memory) } };
        await outbox.append(tx, event, signal);
      }, signal);
      deps.onEventsCommitted();
      return memory;
    },

    /** Reads one memory, through the cache. @throws NOT_FOUND (never cached) */
    async get(id: string, signal?: AbortSignal): Promise<Memory> {
      const memoryId = requireId(id);
      return cache.get(
        memoryId,
        async (loadSignal) => {
          const memory = await repository.get(memoryId, loadSignal);
          if (!memory) throw notFound('memory', id);
          return memory;
        },
        signal,
      );
    },

    /** Ranked full-text search with cursor pagination. */
    async search(
      request: { query: string; layer?: MemoryLayer | undefined; pageSize: number; pageToken: string },
      signal?: AbortSignal,
    ): Promise<SearchPage> {
      const text = validateQuery(request.query);
      const limit = pageSize(request.pageSize);
      const after = decodeCursor(request.pageToken);
      const rows = await repository.search({ text, layer: request.layer, after, limit: limit + 1 }, signal);
      const hits = rows.slice(0, limit);
      const last = hits.at(-1);
      const nextPageToken = rows.length > limit && last ? encodeCursor({ rank: last.rank, id: last.memory.id }) : '';
      return { hits, nextPageToken };
    },

    /** Deletes a memory and emits `memory.deleted`, then drops it from every replica's cache. @throws NOT_FOUND */
    async delete(id: string, signal?: AbortSignal): Promise<void> {
      const memoryId = requireId(id);
      const deleted = await db.transaction(async (tx) => {
        if (!(await repository.delete(tx, memoryId, signal))) return false;
        await outbox.append(tx, { definition: catalog['memory.deleted'], subject: memoryId, data: { memoryId } }, signal);
        return true;
      }, signal);
      if (!deleted) throw notFound('memory', id);
      deps.onEventsCommitted();
      // After the commit, so no replica can load the row again; not with the caller's signal:
      // once the row is gone, every cache must hear of it even if the caller has left.
      await cache.invalidate(memoryId);
    },
  };
}

/** Jamey's memory service. */
export type MemoryService = ReturnType<typeof createMemoryService>;
