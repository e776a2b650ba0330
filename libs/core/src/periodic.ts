/** Options of {@link createPeriodicTask}. */
export interface PeriodicTaskOptions {
  /** Milliseconds between the end of one round and the start of the next; a positive integer. */
  readonly intervalMs: number;
  /** One round. Its signal is aborted by `stop`. */
  readonly run: (signal: AbortSignal) => Promise<void>;
  /** Told about a failed round; the task tries again at the next interval. */
  readonly onError: (error: unknown) => void;
}

/** A background task started and stopped with its service. */
export interface PeriodicTask {
  /** Runs a first round now, then one every interval. */
  start(): void;
  /** Stops scheduling, aborts the round in progress and waits for it to settle. */
  stop(): Promise<void>;
}

/**
 * Runs `run` at start and then `intervalMs` after each round ends, so rounds never overlap and a
 * slow round delays the next instead of piling up. The timer does not keep the process alive.
 */
export function createPeriodicTask(options: PeriodicTaskOptions): PeriodicTask {
  const { intervalMs, run, onError } = options;
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) throw new RangeError(`interval must be a positive integer of milliseconds, got ${intervalMs}`);
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;
  let abort = new AbortController();
  let stopped = true;
  const next = (): void => {
    const signal = abort.signal;
    round = run(signal)
      .catch((error: unknown) => {
        if (!signal.aborted) onError(error);
      })
      .finally(() => {
        round = undefined;
        if (!stopped) {
          timer = setTimeout(next, intervalMs);
          timer.unref();
        }
      });
  };
  return {
    start() {
      if (!stopped) return;
      stopped = false;
      abort = new AbortController();
      next();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      abort.abort();
      await round;
    },
  };
}
