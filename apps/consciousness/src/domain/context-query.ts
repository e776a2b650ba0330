/** At most this many distinct words of a perception go into its memory query. */
export const CONTEXT_QUERY_MAX_TERMS = 32;

/**
 * The memory search query that recalls context for a perception: its distinct words joined
 * with `or` (memory's websearch syntax). Memory ranks hits by how many of the words they share
 * (`ts_rank_cd`), so a memory that shares any word is a candidate. Searching for the raw input
 * would demand that a memory contain every word, and recall almost nothing. Empty when the
 * input has no words; quotes and operators in the input are dropped, so they cannot change the
 * query's meaning.
 */
export function contextQuery(input: string): string {
  const words = input.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)]
    .filter((word) => word !== 'or')
    .slice(0, CONTEXT_QUERY_MAX_TERMS)
    .join(' or ');
}
