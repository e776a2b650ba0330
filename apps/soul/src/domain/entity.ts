import { assertStorableText, invalidArgument } from '@jamey/core';

/** One entity Jamey deals with, and its trust in it. */
export interface Entity {
  /** Caller-chosen: 1..128 characters of `[A-Za-z0-9._:-]`. */
  readonly id: string;
  /** 1..200 characters, trimmed. */
  readonly name: string;
  /** 0..1; 0.5 is neutral. */
  readonly trust: number;
  readonly interactionCount: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One recorded interaction with an entity, and how it moved trust. */
export interface Interaction {
  /** UUIDv7. */
  readonly id: string;
  readonly entityId: string;
  /** -1..1. */
  readonly valence: number;
  readonly note: string;
  readonly trustBefore: number;
  readonly trustAfter: number;
  readonly createdAt: Date;
}

/** Limits on entities and interactions. Characters are Unicode code points. */
export const SOUL_LIMITS = Object.freeze({
  entityIdMaxChars: 128,
  nameMaxChars: 200,
  noteMaxChars: 1000,
});

const ENTITY_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;

function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/**
 * Checks an entity id: 1..128 characters of `[A-Za-z0-9._:-]`, taken as given (ids are
 * case-sensitive and never trimmed). @throws INVALID_ARGUMENT with `field`
 */
export function validateEntityId(id: string, field = 'id'): string {
  if (id.length === 0) throw invalidArgument(field, `${field} must not be empty`);
  if (id.length > SOUL_LIMITS.entityIdMaxChars) {
    throw invalidArgument(field, `${field} must be at most ${SOUL_LIMITS.entityIdMaxChars} characters`);
  }
  if (!ENTITY_ID_PATTERN.test(id)) throw invalidArgument(field, `${field} may only contain A-Z a-z 0-9 . _ : -`);
  return id;
}

/** Trims and checks an entity name: 1..200 characters. @throws INVALID_ARGUMENT (`name`) */
export function validateName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw invalidArgument('name', 'name must not be empty');
  assertStorableText('name', trimmed);
  if (codePoints(trimmed) > SOUL_LIMITS.nameMaxChars) {
    throw invalidArgument('name', `name must be at most ${SOUL_LIMITS.nameMaxChars} characters`);
  }
  return trimmed;
}

/** Trims and checks an interaction note: up to 1000 characters, may be empty. @throws INVALID_ARGUMENT (`note`) */
export function validateNote(note: string): string {
  const trimmed = note.trim();
  assertStorableText('note', trimmed);
  if (codePoints(trimmed) > SOUL_LIMITS.noteMaxChars) {
    throw invalidArgument('note', `note must be at most ${SOUL_LIMITS.noteMaxChars} characters`);
  }
  return trimmed;
}
