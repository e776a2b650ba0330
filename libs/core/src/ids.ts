import { v7 } from 'uuid';
import type { Clock } from './clock.js';
import type { RandomSource } from './random.js';

/** Produces identifiers. Jamey's identifiers are UUIDv7, so they sort by creation time. */
export type IdGenerator = () => string;

/** Creates a UUIDv7 generator driven by the given clock and random source. */
export function createIdGenerator(clock: Clock, random: RandomSource): IdGenerator {
  return () => v7({ msecs: clock.now(), random: random.bytes(16) });
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID in canonical textual form (any version). */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

const UUID_V7_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** True when `value` is a UUIDv7 (version 7, RFC 9562 variant) in canonical textual form. */
export function isUuidV7(value: string): boolean {
  return UUID_V7_PATTERN.test(value);
}
