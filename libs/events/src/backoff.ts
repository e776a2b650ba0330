/**
 * Exponential backoff without jitter: `baseMs * 2^(attempt-1)`, capped at `maxMs`.
 * `attempt` counts from 1. (Jitter would need a random source; these retries are per
 * process and few, so synchronized retry storms are not a concern here.)
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
