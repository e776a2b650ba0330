/** Types for canary.mjs (imported by tests/deploy). */
export function planCanary(args: string[]): { values: string; commands: string[] };
