import { assertStorableText, invalidArgument, isUuid } from '@jamey/core';

/** The five layers of Jamey's holographic memory. */
export const MEMORY_LAYERS = ['sensory', 'working', 'episodic', 'semantic', 'procedural'] as const;

export type MemoryLayer = (typeof MEMORY_LAYERS)[number];

/** One stored memory. */
export interface Memory {
  readonly id: string;
  readonly content: string;
  readonly layer: MemoryLayer;
  readonly tags: readonly string[];
  /** 0..1. */
  readonly importance: number;
  readonly createdAt: Date;
}

/** What a caller asks to store. */
export interface StoreMemoryInput {
  readonly content: string;
  /** Default `episodic`. */
  readonly layer?: MemoryLayer | undefined;
  readonly tags?: readonly string[] | undefined;
  /** Default 0.5. */
  readonly importance?: number | undefined;
}

/** Limits on stored memories. */
export const MEMORY_LIMITS = Object.freeze({
  contentMaxChars: 10_000,
  maxTags: 32,
  tagMaxChars: 64,
  defaultPageSize: 20,
  maxPageSize: 100,
  queryMaxChars: 1000,
});

/** Validates and normalizes a store request. */
export function validateStoreInput(input: StoreMemoryInput): Required<StoreMemoryInput> {
  const content = input.content.trim();
  if (content.length === 0) throw invalidArgument('content', 'content must not be empty');
  if (content.length > MEMORY_LIMITS.contentMaxChars) {
    throw invalidArgument('content', `content must be at most ${MEMORY_LIMITS.contentMaxChars} characters`);
  }
  assertStorableText('content', content);
  const tags = [...new Set((input.tags ?? []).map((tag) => tag.trim()))];
  if (tags.length > MEMORY_LIMITS.maxTags) throw invalidArgument('tags', `at most ${MEMORY_LIMITS.maxTags} tags are allowed`);
  for (const tag of tags) {
    if (tag.length === 0 || tag.length > MEMORY_LIMITS.tagMaxChars) {
      throw invalidArgument('tags', `each tag must be 1..${MEMORY_LIMITS.tagMaxChars} characters`);
    }
    assertStorableText('tags', tag);
  }
  const importance = input.importance ?? 0.5;
  if (!Number.isFinite(importance) || importance < 0 || importance > 1) {
    throw invalidArgument('importance', 'importance must be between 0 and 1');
  }
  return { content, layer: input.layer ?? 'episodic', tags, importance };
}

/** Validates and trims a search query (websearch syntax, checked by the database). */
export function validateQuery(query: string): string {
  const text = query.trim();
  if (text.length === 0) throw invalidArgument('query', 'query must not be empty');
  if (text.length > MEMORY_LIMITS.queryMaxChars) {
    throw invalidArgument('query', `query must be at most ${MEMORY_LIMITS.queryMaxChars} characters`);
  }
  assertStorableText('query', text);
  return text;
}

/** A position in a ranked search, carried between pages as an opaque token. */
export interface SearchCursor {
  readonly rank: number;
  readonly id: string;
}

/** Encodes a cursor as an opaque, URL-safe page token. */
export function encodeCursor(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify([cursor.rank, cursor.id]), 'utf8').toString('base64url');
}

/** Decodes a page token; an empty token is the first page. */
export function decodeCursor(token: string, field = 'page_token'): SearchCursor | undefined {
  if (token === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    // Every part reaches SQL as a typed parameter, so a forged token must fail here, as
    // INVALID_ARGUMENT, rather than in a cast inside the query.
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'number' &&
      Number.isFinite(parsed[0]) &&
      typeof parsed[1] === 'string' &&
      isUuid(parsed[1])
    ) {
      return { rank: parsed[0], id: parsed[1] };
    }
  } catch {
    // Fall through to the uniform error below.
  }
  throw invalidArgument(field, 'page_token is not a token this service issued');
}

/** Clamps a requested page size: 0 means the default, larger values are capped. */
export function pageSize(requested: number): number {
  if (!Number.isInteger(requested) || requested < 0) throw invalidArgument('page_size', 'page_size must be a non-negative integer');
  return requested === 0 ? MEMORY_LIMITS.defaultPageSize : Math.min(requested, MEMORY_LIMITS.maxPageSize);
}
