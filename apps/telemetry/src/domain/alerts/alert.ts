import { createHash } from 'node:crypto';
import type { Severity } from './rules.js';

/** An alert's state. A pending alert whose condition stops holding is simply dropped. */
export type AlertState = 'pending' | 'firing' | 'resolved';

/** One alert: a rule and the labels it holds for. One per {@link fingerprint}. */
export interface Alert {
  /** UUIDv7 of this episode: new each time the condition starts to hold again. */
  readonly id: string;
  readonly fingerprint: string;
  /** The rule's name. */
  readonly rule: string;
  readonly severity: Severity;
  readonly state: AlertState;
  readonly labels: Readonly<Record<string, string>>;
  /** The measured value at the latest evaluation. */
  readonly value: number;
  readonly summary: string;
  readonly description: string;
  /** When the condition started to hold. */
  readonly activeAt: Date;
  readonly firedAt: Date | undefined;
  readonly resolvedAt: Date | undefined;
  /** When this row last changed; the optimistic-concurrency token of the store. */
  readonly updatedAt: Date;
}

/**
 * The deduplication key of an alert: a hash of the rule name and its labels, independent of
 * label order. The same condition on the same labels is always the same alert.
 */
export function fingerprint(rule: string, labels: Readonly<Record<string, string>>): string {
  const canonical = JSON.stringify([rule, Object.keys(labels).sort().map((k) => [k, labels[k]])]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}
