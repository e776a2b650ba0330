import type { Clock } from '@jamey/core';
import { Gauge, type Registry } from 'prom-client';

/** One dependency check. Resolves when healthy, rejects with the reason when not. */
export type HealthCheck = (signal: AbortSignal) => Promise<void> | void;

/** Options of {@link Health.addCheck}. */
export interface CheckOptions {
  /** How long the check may take, in ms. Default 2000. */
  readonly timeoutMs?: number;
  /**
   * Whether a failure makes the service not ready. Default true. An optional check's failure is
   * still reported (in `/readyz` and `jamey_readiness_check_up`), but the service stays ready,
   * degraded: for dependencies it can serve without, or whose outage every replica shares.
   */
  readonly required?: boolean;
}

/** The outcome of one check. */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly required: boolean;
  /** Why the check failed. */
  readonly error?: string;
  readonly durationMs: number;
}

/** The outcome of all readiness checks. */
export interface ReadinessReport {
  /** Every required check passed and the service is not shutting down. */
  readonly ready: boolean;
  /** Ready, but an optional check failed. */
  readonly degraded: boolean;
  readonly checks: readonly CheckResult[];
  /** When the checks ran, in epoch ms of the health's clock. */
  readonly checkedAt: number;
}

/** Options of {@link Health.readiness}. */
export interface ReadinessOptions {
  /**
   * Reuse the last report when it is at most this old, in ms. Default 0: always run the checks
   * (callers arriving while a run is in flight still share it).
   */
  readonly maxAgeMs?: number;
}

/** Liveness and readiness of one service. */
export interface Health {
  /** Adds a readiness check. Names are unique: they label `/readyz` and the metric. */
  addCheck(name: string, check: HealthCheck, options?: CheckOptions): void;
  /** Marks the service as shutting down: readiness fails from now on, without running checks. */
  markShuttingDown(): void;
  /** True once {@link markShuttingDown} was called. */
  readonly shuttingDown: boolean;
  /**
   * Liveness: true while the process can serve. A process that answers at all can, including
   * while it drains in-flight work on shutdown (restarting it then would cut the drain short);
   * a wedged event loop never gets to answer.
   */
  isLive(): boolean;
  /**
   * Runs every check in parallel, each bounded by its own timeout. Concurrent calls share one
   * run; `maxAgeMs` reuses a recent report, so frequent callers (gRPC health) cannot hammer the
   * dependencies.
   */
  readiness(options?: ReadinessOptions): Promise<ReadinessReport>;
}

/** Options for {@link createHealth}. */
export interface HealthOptions {
  /** When given, every run updates `jamey_readiness_check_up{check}` (1 ok, 0 failing) here. */
  readonly metrics?: Registry;
}

const DEFAULT_TIMEOUT_MS = 2000;

/** The pseudo-check a service reports while it shuts down. */
const SHUTDOWN: CheckResult = Object.freeze({ name: 'shutdown', ok: false, required: true, error: 'shutting down', durationMs: 0 });

/** Creates the health registry of a service. */
export function createHealth(clock: Clock, options: HealthOptions = {}): Health {
  const checks: { name: string; check: HealthCheck; timeoutMs: number; required: boolean }[] = [];
  let shuttingDown = false;
  let last: ReadinessReport | undefined;
  let running: Promise<ReadinessReport> | undefined;
  const up = options.metrics
    ? new Gauge({
        name: 'jamey_readiness_check_up',
        help: 'Result of each readiness check when readiness last ran: 1 ok, 0 failing.',
        labelNames: ['check'],
        registers: [options.metrics],
      })
    : undefined;

  async function run(name: string, check: HealthCheck, timeoutMs: number, required: boolean): Promise<CheckResult> {
    const started = clock.now();
    const signal = AbortSignal.timeout(timeoutMs);
    const timedOut = `timed out after ${timeoutMs} ms`;
    try {
      await Promise.race([
        Promise.resolve().then(() => check(signal)),
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error(timedOut)), { once: true })),
      ]);
      return { name, ok: true, required, durationMs: clock.now() - started };
    } catch (error) {
      // A check that gave up because its budget ran out reports the timeout, not its own abort error.
      const reason = signal.aborted ? timedOut : error instanceof Error ? error.message : String(error);
      return { name, ok: false, required, error: reason, durationMs: clock.now() - started };
    }
  }

  function report(results: readonly CheckResult[]): ReadinessReport {
    const ready = results.every((r) => r.ok || !r.required);
    const result = { ready, degraded: ready && results.some((r) => !r.ok), checks: results, checkedAt: clock.now() };
    if (up) {
      // Reset first, so the gauge shows exactly the checks of this run.
      up.reset();
      for (const r of results) up.set({ check: r.name }, r.ok ? 1 : 0);
    }
    return result;
  }

  async function runAll(): Promise<ReadinessReport> {
    const results = await Promise.all(checks.map(({ name, check, timeoutMs, required }) => run(name, check, timeoutMs, required)));
    // Shutdown may have begun while the checks ran; it wins.
    if (shuttingDown) return report([SHUTDOWN]);
    last = report(results);
    return last;
  }

  return {
    addCheck(name, check, checkOptions = {}) {
      if (name === SHUTDOWN.name || checks.some((c) => c.name === name)) throw new Error(`readiness check ${name} already exists`);
      checks.push({ name, check, timeoutMs: checkOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS, required: checkOptions.required ?? true });
    },
    markShuttingDown() {
      shuttingDown = true;
    },
    get shuttingDown() {
      return shuttingDown;
    },
    isLive: () => true,
    async readiness(readinessOptions = {}) {
      // Shutting down: not ready, whatever the dependencies say (they may be closing already).
      if (shuttingDown) return report([SHUTDOWN]);
      const maxAgeMs = readinessOptions.maxAgeMs ?? 0;
      if (last && maxAgeMs > 0 && clock.now() - last.checkedAt <= maxAgeMs) return last;
      running ??= runAll().finally(() => {
        running = undefined;
      });
      return running;
    },
  };
}
