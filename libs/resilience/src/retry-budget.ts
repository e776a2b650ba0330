/** Options of {@link createRetryBudget}: gRPC's `retryThrottling`. */
export interface RetryBudgetOptions {
  /** Tokens when full, in (0, 1000]. Default 10. */
  readonly maxTokens?: number;
  /** Tokens a success adds back, in (0, 1]. Default 0.1. */
  readonly tokenRatio?: number;
}

/**
 * A retry budget shared by every retry policy calling one dependency, as gRPC's
 * `retryThrottling`: each failed attempt (of a retryable kind) takes a token, each success
 * returns `tokenRatio` of one, and retries are allowed only while more than half the tokens
 * remain. So when most calls fail, retries stop multiplying the load.
 */
export interface RetryBudget {
  /** Tokens left (fractional). */
  readonly tokens: number;
  readonly maxTokens: number;
  /** True while a retry is allowed: more than `maxTokens / 2` tokens left. */
  canRetry(): boolean;
  /** Records a successful attempt. */
  onSuccess(): void;
  /** Records a failed attempt whose error was retryable. */
  onFailure(): void;
}

// gRPC keeps token counts to three decimals; counting in thousandths avoids float drift.
const SCALE = 1000;

/** Creates a {@link RetryBudget}, full. */
export function createRetryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  const maxTokens = options.maxTokens ?? 10;
  const tokenRatio = options.tokenRatio ?? 0.1;
  if (!(maxTokens > 0 && maxTokens <= 1000)) throw new RangeError(`maxTokens must be in (0, 1000], got ${maxTokens}`);
  if (!(tokenRatio > 0 && tokenRatio <= 1)) throw new RangeError(`tokenRatio must be in (0, 1], got ${tokenRatio}`);
  const max = Math.round(maxTokens * SCALE);
  const ratio = Math.max(1, Math.round(tokenRatio * SCALE));
  const threshold = max / 2;
  let tokens = max;
  return {
    get tokens() {
      return tokens / SCALE;
    },
    maxTokens,
    canRetry: () => tokens > threshold,
    onSuccess: () => {
      tokens = Math.min(max, tokens + ratio);
    },
    onFailure: () => {
      tokens = Math.max(0, tokens - SCALE);
    },
  };
}
