import type { Clock } from '@jamey/core';

/** One dependency check. Resolves when healthy, rejects with the reason when not. */
export type HealthCheck = (signal: AbortSignal) => Promise<void>;

/** The outcome of one check. */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  /** Why the check failed. */
  readonly error?: string;
  readonly durationMs: number;
}

/** The outcome of all readiness checks. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: readonly CheckResult[];
}

/** Liveness and readiness of one service. */
export interface Health {
  /** Adds a readiness check with its own timeout (default 2000 ms). */
  addCheck(name: string, check: HealthCheck, options?: { timeoutMs?: number }): void;
  /** Marks the service as shutting down: readiness fails from now on. */
  markShuttingDown(): void;
  /** True while the process can serve (not shutting down). */
  isLive(): boolean;
  /** Runs every check in parallel, each bounded by its own timeout. */
  readiness(): Promise<ReadinessReport>;
}

/** Creates the health registry of a service. */
export function createHealth(clock: Clock): Health {
  const checks: { name: string; check: HealthCheck; timeoutMs: number }[] = [];
  let shuttingDown = false;

  async function run(name: string, check: HealthCheck, timeoutMs: number): Promise<CheckResult> {
    const started = clock.now();
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      await Promise.race([
        check(signal),
        new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error(`timed out after ${timeoutMs} ms`)), { once: true }),
        ),
      ]);
      return { name, ok: true, durationMs: clock.now() - started };
    } catch (error) {
      // A check that gave up because its budget ran out reports the timeout, not its own abort error.
      const reason = signal.aborted ? `timed out after ${timeoutMs} ms` : error instanceof Error ? error.message : String(error);
      return { name, ok: false, error: reason, durationMs: clock.now() - started };
    }
  }

  return {
    addCheck(name, check, options) {
      checks.push({ name, check, timeoutMs: options?.timeoutMs ?? 2000 });
    },
    markShuttingDown() {
      shuttingDown = true;
    },
    isLive: () => !shuttingDown,
    async readiness() {
      const results = await Promise.all(checks.map(({ name, check, timeoutMs }) => run(name, check, timeoutMs)));
      const all = shuttingDown ? [{ name: 'shutdown', ok: false, error: 'shutting down', durationMs: 0 }, ...results] : results;
      return { ready: all.every((r) => r.ok), checks: all };
    },
  };
}
