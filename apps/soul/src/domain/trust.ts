import { invalidArgument } from '@jamey/core';

/** Trust a new entity starts with: neutral, halfway between distrust (0) and full trust (1). */
export const INITIAL_TRUST = 0.5;

/**
 * The learning rate α of the trust rule: the largest fraction of the remaining distance (to 1
 * for positive interactions, to 0 for negative ones) that one interaction of valence ±1 moves.
 */
export const TRUST_LEARNING_RATE = 0.2;

/** Checks a valence: finite and within -1..1. @throws INVALID_ARGUMENT (`valence`) */
export function validateValence(valence: number): number {
  if (!Number.isFinite(valence) || valence < -1 || valence > 1) {
    throw invalidArgument('valence', 'valence must be a finite number between -1 and 1');
  }
  return valence;
}

/**
 * Jamey's trust rule: how one interaction of valence `v` moves trust `t`.
 *
 * With learning rate α = {@link TRUST_LEARNING_RATE} (0.2):
 * - `v ≥ 0`: `t' = t + α·v·(1 − t)` — a positive interaction closes the fraction `α·v` of the
 *   distance to full trust;
 * - `v < 0`: `t' = t + α·v·t` — a negative interaction removes the fraction `α·|v|` of the
 *   current trust.
 *
 * Properties: bounded (since `α·|v| ≤ 0.2 < 1`, `t'` stays in [0, 1] for every `t` in [0, 1]);
 * asymmetric (gains shrink near 1, losses shrink near 0, so neither bound is ever reached from
 * inside); monotone in `v` and in `t`; `v = 0` leaves trust unchanged; small valences make
 * small moves (`|t' − t| ≤ α·|v|`).
 *
 * @param trust current trust, 0..1
 * @param valence how the interaction felt, −1 (bad) .. 1 (good); must be finite
 * @returns the new trust, 0..1
 * @throws INVALID_ARGUMENT (field `valence` or `trust`) when an input is NaN, infinite or out of range
 */
export function nextTrust(trust: number, valence: number): number {
  validateValence(valence);
  if (!Number.isFinite(trust) || trust < 0 || trust > 1) {
    throw invalidArgument('trust', 'trust must be a finite number between 0 and 1');
  }
  const moved =
    valence >= 0 ? trust + TRUST_LEARNING_RATE * valence * (1 - trust) : trust + TRUST_LEARNING_RATE * valence * trust;
  // The rule is bounded exactly; the clamp only guards against floating-point rounding at the edges.
  return Math.min(1, Math.max(0, moved));
}
