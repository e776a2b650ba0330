import { describe, expect, it } from 'vitest';
import { CONTEXT_QUERY_MAX_TERMS, contextQuery } from './context-query.js';

describe('contextQuery', () => {
  it('joins the distinct words with or', () => {
    expect(contextQuery('A loud Zebra, a LOUD zebra!')).toBe('a or loud or zebra');
  });

  it('drops operators and quotes so the input cannot change the query', () => {
    expect(contextQuery('"exact phrase" -not or OR x')).toBe('exact or phrase or not or x');
  });

  it('keeps non-Latin words and numbers, and caps the number of terms', () => {
    expect(contextQuery('café 42 日本')).toBe('café or 42 or 日本');
    const many = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    expect(contextQuery(many).split(' or ')).toHaveLength(CONTEXT_QUERY_MAX_TERMS);
  });

  it('is empty for input without words', () => {
    expect(contextQuery('?! ...')).toBe('');
  });
});
