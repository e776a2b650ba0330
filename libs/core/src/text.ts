import { invalidArgument } from './errors.js';

/**
 * Rejects text PostgreSQL cannot store: U+0000 is not allowed in `text` or `jsonb`, so it
 * would otherwise fail inside a query as an internal error instead of naming the field.
 * @throws INVALID_ARGUMENT naming `field`.
 */
export function assertStorableText(field: string, value: string): void {
  if (value.includes('\u0000')) throw invalidArgument(field, `${field} must not contain NUL (U+0000) characters`);
}
