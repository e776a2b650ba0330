import type { Clock } from '@jamey/core';
import type { Database, Logger } from '@jamey/data';
import { accessRecord, accessSubject, type AccessMetrics, type AccessRecord, type AccessRecordInput } from './access.js';
import type { EventDefinition } from './catalog.js';
import type { Outbox } from './outbox.js';

/** How many refusals a process records one by one: a token bucket. */
export interface RefusalBudget {
  /** Records allowed in a burst. Default 20. */
  readonly burst: number;
  /** Records per second in the long run. Default 5. */
  readonly perSecond: number;
}

/** Options for {@link createAccessRecorder}. */
export interface AccessRecorderOptions {
  /** The access event every record is appended as (`<service>.call_denied`, `gateway.request_completed`). */
  readonly definition: EventDefinition<string, AccessRecord>;
  readonly db: Database;
  readonly outbox: Outbox;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: AccessMetrics;
  readonly budget?: RefusalBudget;
  /** How often folded refusals are written as summary records, in ms. Default 10000. */
  readonly summaryIntervalMs?: number;
  /** Longest a single record's write may take before it counts as failed, in ms. Default none. */
  readonly writeTimeoutMs?: number;
}

/** One refused access, split into what a summary keeps and what only a single record has. */
export interface RefusedAccess {
  /** Fields every access folded with this one shares (action, outcome, reason, actor…). */
  readonly common: Omit<AccessRecordInput, 'summary'>;
  /** Fields of this access alone (ip, user agent, traceparent): dropped when folded. */
  readonly own: Pick<AccessRecordInput, 'ip' | 'userAgent' | 'traceparent'>;
  /** Refusals with the same key fold into one summary. */
  readonly key: string;
  /** What a summary keeps once {@link MAX_SUMMARY_KEYS} keys are in use: the common fields only. */
  readonly overflow: Omit<AccessRecordInput, 'summary'>;
}

/** What became of one refusal. `written` resolves true once committed, false when the write failed. */
export type RefusalResult = { readonly kind: 'recorded'; readonly written: Promise<boolean> } | { readonly kind: 'folded' };

/** Writes access records through the outbox, refusals within a flood bound. */
export interface AccessRecorder {
  /**
   * Writes one record in its own short transaction. Never rejects: resolves true once
   * committed, false (logged) when the write failed.
   */
  write(input: AccessRecordInput): Promise<boolean>;
  /**
   * Counts one refusal and records it while the budget lasts, else folds it into a summary.
   * Never throws; the write runs in the background (`written` tells when it is done).
   */
  refuse(access: RefusedAccess): RefusalResult;
  /** Writes the pending summaries now and waits for every write in flight. */
  flush(): Promise<void>;
  /** Starts writing summaries every `summaryIntervalMs`. */
  start(): void;
  /** Stops the timer and flushes. */
  stop(): Promise<void>;
}

/** Most distinct summaries held between flushes; beyond, they share one overflow summary. */
const MAX_SUMMARY_KEYS = 256;
const OVERFLOW_KEY = '*';

interface Summary {
  readonly input: Omit<AccessRecordInput, 'summary'>;
  count: number;
  readonly firstTime: number;
  lastTime: number;
}

/**
 * Writes access records (payload `jamey.audit.v1.AccessRecord`) with the outbox, each as one
 * INSERT that commits on its own, so a crash after the commit loses none and audit receives it through
 * Kafka. Shared by the services' refused gRPC calls and the gateway's requests.
 *
 * **Flood bound.** A caller flooding bad tokens must not turn each refusal into a database
 * write. A per-process token bucket ({@link RefusalBudget}, default 20 at once, 5 a second)
 * admits single refusal records; a refusal over budget is folded into one summary per key: a
 * record with `count`, `first_time` and `last_time`, and no ip, user agent or trace id (they
 * differ between the folded accesses). Summaries are written every `summaryIntervalMs` and on
 * stop, so the writes a flood causes are bounded by the bucket plus one per key and interval.
 * Every refusal is counted in `metrics.refused` and every folded one in `metrics.folded`,
 * whatever happens to its record; a refusal or summary whose write failed in
 * `metrics.recordFailed`. A crash loses at most the folded refusals of the current interval
 * (the counters have seen them).
 */
export function createAccessRecorder(options: AccessRecorderOptions): AccessRecorder {
  const { definition, db, outbox, clock, logger, metrics } = options;
  const budget = options.budget ?? { burst: 20, perSecond: 5 };
  const intervalMs = options.summaryIntervalMs ?? 10_000;
  const inFlight = new Set<Promise<boolean>>();
  const summaries = new Map<string, Summary>();
  let tokens = budget.burst;
  let refilledAt = clock.now();
  let timer: ReturnType<typeof setInterval> | undefined;

  const take = (): boolean => {
    const now = clock.now();
    tokens = Math.min(budget.burst, tokens + ((now - refilledAt) / 1000) * budget.perSecond);
    refilledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  const append = (input: AccessRecordInput, onFailed: () => void): Promise<boolean> => {
    let done: Promise<boolean>;
    try {
      const data = accessRecord(input);
      const signal = options.writeTimeoutMs === undefined ? undefined : AbortSignal.timeout(options.writeTimeoutMs);
      // One INSERT commits on its own (its own short transaction): one round trip, not the three
      // of BEGIN/INSERT/COMMIT, which the gateway's responses wait for.
      done = outbox.append(db, { definition, subject: accessSubject(data), data }, signal).then(
        () => true,
        (error: unknown) => {
          onFailed();
          logger.warn({ err: error, action: input.action, count: input.summary?.count ?? 1 }, 'access record not written');
          return false;
        },
      );
    } catch (error) {
      onFailed();
      logger.error({ err: error, action: input.action }, 'access record not written');
      done = Promise.resolve(false);
    }
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
    return done;
  };

  const writeSummaries = (): void => {
    for (const summary of summaries.values()) {
      const input = { ...summary.input, summary: { count: summary.count, firstTime: new Date(summary.firstTime), lastTime: new Date(summary.lastTime) } };
      void append(input, () => metrics.recordFailed(summary.count));
    }
    summaries.clear();
  };

  return {
    write: (input) => append(input, () => undefined),
    refuse(access) {
      try {
        metrics.refused(access.common.outcome, access.common.reason ?? '');
        if (take()) return { kind: 'recorded', written: append({ ...access.common, ...access.own }, () => metrics.recordFailed(1)) };
        metrics.folded(1);
        const now = clock.now();
        let key = access.key;
        if (!summaries.has(key) && summaries.size >= MAX_SUMMARY_KEYS) key = OVERFLOW_KEY;
        const summary = summaries.get(key);
        if (summary) {
          summary.count += 1;
          summary.lastTime = now;
        } else {
          summaries.set(key, { input: key === OVERFLOW_KEY ? access.overflow : access.common, count: 1, firstTime: now, lastTime: now });
        }
        return { kind: 'folded' };
      } catch (error) {
        logger.error({ err: error }, 'recording a refused access failed');
        return { kind: 'recorded', written: Promise.resolve(false) };
      }
    },
    async flush() {
      writeSummaries();
      await Promise.all([...inFlight]);
    },
    start() {
      timer ??= setInterval(writeSummaries, intervalMs);
      // The summaries must not keep a process alive that is otherwise done.
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await this.flush();
    },
  };
}
