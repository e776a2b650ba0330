import { Type, type Static } from 'typebox';
import { IsoTime, NextPageToken, PageSize, PageToken, stringEnum } from './common.js';

/** The memory layers, lowercase (`jamey.memory.v1.MemoryLayer` without its prefix). */
export const MEMORY_LAYERS = ['sensory', 'working', 'episodic', 'semantic', 'procedural'] as const;

/** A memory layer as sent and accepted over HTTP. */
export type MemoryLayerName = (typeof MEMORY_LAYERS)[number];

const Layer = stringEnum(MEMORY_LAYERS, { description: 'The layer of the five-layer memory.' });

/** A memory as returned by the API. */
export const MemorySchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    content: Type.String(),
    layer: Layer,
    tags: Type.Array(Type.String()),
    importance: Type.Number({ minimum: 0, maximum: 1 }),
    createTime: IsoTime('When the memory was stored (UTC).'),
  },
  { additionalProperties: false, title: 'Memory' },
);
export type MemoryJson = Static<typeof MemorySchema>;

/** Body of `POST /v1/memories`. */
export const StoreMemoryBody = Type.Object(
  {
    content: Type.String({ minLength: 1, maxLength: 10_000 }),
    layer: Type.Optional(stringEnum(MEMORY_LAYERS, { description: 'Defaults to `episodic`.' })),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 })),
    importance: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Defaults to 0.5.' })),
  },
  { additionalProperties: false },
);
export type StoreMemoryBodyJson = Static<typeof StoreMemoryBody>;

/** Query of `GET /v1/memories`. */
export const SearchMemoriesQuery = Type.Object(
  {
    query: Type.String({ minLength: 1, maxLength: 1000, description: 'Free text (PostgreSQL websearch syntax).' }),
    layer: Type.Optional(stringEnum(MEMORY_LAYERS, { description: 'Restrict to one layer.' })),
    pageSize: Type.Optional(PageSize(100)),
    pageToken: Type.Optional(PageToken),
  },
  { additionalProperties: false },
);
export type SearchMemoriesQueryJson = Static<typeof SearchMemoriesQuery>;

/** Response of `GET /v1/memories`. */
export const SearchMemoriesResult = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        { memory: MemorySchema, rank: Type.Number({ description: 'Relevance; higher is better.' }) },
        { additionalProperties: false },
      ),
    ),
    nextPageToken: NextPageToken,
  },
  { additionalProperties: false },
);
export type SearchMemoriesResultJson = Static<typeof SearchMemoriesResult>;
