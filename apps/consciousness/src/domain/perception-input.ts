import { assertStorableText, invalidArgument } from '@jamey/core';

/** Limits on a perception request. */
export const PERCEPTION_LIMITS = Object.freeze({
  inputMaxChars: 10_000,
  sourceMaxChars: 200,
  entityIdMaxChars: 128,
});

/** Soul's entity id rule: 1..128 characters of `[A-Za-z0-9._:-]`. */
const ENTITY_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** What a caller asks to perceive. */
export interface PerceiveInput {
  readonly input: string;
  readonly source: string;
  readonly salience: number;
  /** Empty or absent means no entity. */
  readonly entityId?: string | undefined;
}

/** A validated, normalized {@link PerceiveInput}. */
export interface ValidPerceiveInput {
  /** Trimmed, 1..10000 characters. */
  readonly input: string;
  /** Trimmed, 1..200 characters. */
  readonly source: string;
  /** Finite, 0..1. */
  readonly salience: number;
  readonly entityId: string | undefined;
}

/**
 * Validates a perception request. @throws INVALID_ARGUMENT naming the field (`input`,
 * `source`, `salience` or `entity_id`).
 */
export function validatePerceiveInput(request: PerceiveInput): ValidPerceiveInput {
  const input = request.input.trim();
  if (input.length === 0) throw invalidArgument('input', 'input must not be empty');
  assertStorableText('input', input);
  if (input.length > PERCEPTION_LIMITS.inputMaxChars) {
    throw invalidArgument('input', `input must be at most ${PERCEPTION_LIMITS.inputMaxChars} characters`);
  }
  const source = request.source.trim();
  if (source.length === 0) throw invalidArgument('source', 'source must not be empty');
  assertStorableText('source', source);
  if (source.length > PERCEPTION_LIMITS.sourceMaxChars) {
    throw invalidArgument('source', `source must be at most ${PERCEPTION_LIMITS.sourceMaxChars} characters`);
  }
  const { salience } = request;
  if (!Number.isFinite(salience) || salience < 0 || salience > 1) {
    throw invalidArgument('salience', 'salience must be a finite number between 0 and 1');
  }
  const entityId = request.entityId === undefined || request.entityId === '' ? undefined : request.entityId;
  if (entityId !== undefined && !ENTITY_ID_PATTERN.test(entityId)) {
    throw invalidArgument(
      'entity_id',
      `entity_id must be 1..${PERCEPTION_LIMITS.entityIdMaxChars} characters of letters, digits, '.', '_', ':' or '-'`,
    );
  }
  return { input, source, salience, entityId };
}
