import { type Clock, isJameyError, ERROR_CODES } from '@jamey/core';
import type { Database, Logger } from '@jamey/data';
import {
  AccessProtocol,
  accessRecord,
  accessSubject,
  callDeniedEvent,
  outcomeOfGrpcCode,
  type AccessMetrics,
  type AccessRecordInput,
  type CallDeniedSource,
  type Outbox,
} from '@jamey/events';
import type { RefusalDetails } from '@jamey/rpc';

/** One refused gRPC call, as the server's `onRefused` hook hears it. */
export interface Refusal {
  /** Full method path. */
  readonly method: string;
  /** The verifier's error (an AuthError with `code` and `reason`), or whatever it threw. */
  readonly error: unknown;
  readonly details: RefusalDetails;
}

/** How many refusals a process records one by one: a token bucket. */
export interface RefusalBudget {
  /** Records allowed in a burst. Default 20. */
  readonly burst: number;
  /** Records per second in the long run. Default 5. */
  readonly perSecond: number;
}

/** Options for {@link createRefusalRecorder}. */
export interface RefusalRecorderOptions {
  /** The refusing service: its `<service>.call_denied` event is what gets recorded. */
  readonly service: CallDeniedSource;
  readonly db: Database;
  readonly outbox: Outbox;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: AccessMetrics;
  readonly budget?: RefusalBudget;
  /** How often folded refusals are written as summary records, in ms. Default 10000. */
  readonly summaryIntervalMs?: number;
}

/** Records refused calls as `<service>.call_denied` access events through the outbox. */
export interface RefusalRecorder {
  /**
   * Records one refusal; never throws, never waits (the write runs in the background). Returns
   * `folded` when it went into a summary (over budget), so callers can keep their own logging
   * within the same bound.
   */
  record(refusal: Refusal): 'recorded' | 'folded';
  /** Writes the pending summaries now and waits for every write in flight. */
  flush(): Promise<void>;
  /** Starts writing summaries every `summaryIntervalMs`. */
  start(): void;
  /** Stops the timer and flushes. */
  stop(): Promise<void>;
}

/** Most distinct (method, outcome, reason) summaries held between flushes; beyond, they share one. */
const MAX_SUMMARY_KEYS = 256;

interface Summary {
  readonly input: Omit<AccessRecordInput, 'summary'>;
  count: number;
  readonly firstTime: number;
  lastTime: number;
}

/** `127.0.0.1:53122` → `127.0.0.1`, `[::1]:53122` → `::1`; anything else as it is. */
export function ipOfPeer(peer: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(peer);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(peer);
  return v4 ? v4[1]! : peer;
}

/** The gRPC code number of a refusal: the error's own (UNAUTHENTICATED or PERMISSION_DENIED), else UNAUTHENTICATED. */
function grpcCodeOf(error: unknown): number {
  return isJameyError(error) ? ERROR_CODES[error.code].grpc : ERROR_CODES.UNAUTHENTICATED.grpc;
}

function reasonOf(error: unknown): string {
  const reason = (error as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' ? reason : 'unverifiable';
}

/**
 * Turns every refused call into an access record (`<service>.call_denied`, payload
 * `jamey.audit.v1.AccessRecord`), written with the outbox in its own short transaction, so a
 * crash after the commit loses none and audit receives it through Kafka.
 *
 * **Flood bound.** A caller flooding bad tokens must not turn each one into a database write.
 * A per-process token bucket ({@link RefusalBudget}, default 20 at once, 5 a second) admits
 * single records; a refusal over budget is folded into one summary per (method, outcome,
 * reason): a record with `count`, `first_time` and `last_time`, and no ip, user agent or trace
 * id (they differ between the folded calls). Summaries are written every `summaryIntervalMs` and
 * on stop, so the writes a flood causes are bounded by the bucket plus one per key and interval.
 * Every refusal is counted in `jamey_security_refusals_total` and every folded one in
 * `jamey_security_refusals_folded_total`, whatever happens to its record. A crash loses at most
 * the folded refusals of the current interval (the counters have seen them).
 */
export function createRefusalRecorder(options: RefusalRecorderOptions): RefusalRecorder {
  const { service, db, outbox, clock, logger, metrics } = options;
  const budget = options.budget ?? { burst: 20, perSecond: 5 };
  const intervalMs = options.summaryIntervalMs ?? 10_000;
  const definition = callDeniedEvent(service);
  const inFlight = new Set<Promise<void>>();
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

  const write = (input: AccessRecordInput, count: number): void => {
    const data = accessRecord(input);
    const done = db
      .transaction((tx) => outbox.append(tx, { definition, subject: accessSubject(data), data }))
      .then(
        () => undefined,
        (error: unknown) => {
          metrics.recordFailed(count);
          logger.warn({ err: error, method: input.action, count }, 'refused call not recorded');
        },
      );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };

  const writeSummaries = (): void => {
    for (const summary of summaries.values()) {
      write({ ...summary.input, summary: { count: summary.count, firstTime: new Date(summary.firstTime), lastTime: new Date(summary.lastTime) } }, summary.count);
    }
    summaries.clear();
  };

  return {
    record({ method, error, details }) {
      try {
        const code = grpcCodeOf(error);
        const outcome = outcomeOfGrpcCode(code);
        const reason = reasonOf(error);
        metrics.refused(outcome, reason);
        const base = {
          action: method,
          resource: service,
          outcome,
          protocol: AccessProtocol.ACCESS_PROTOCOL_GRPC,
          status: code,
          reason,
          ...(details.verifiedCaller === undefined ? {} : { actor: details.verifiedCaller, callerService: details.verifiedCaller }),
        } satisfies Omit<AccessRecordInput, 'summary'>;
        if (take()) {
          write({ ...base, ip: ipOfPeer(details.peer), userAgent: details.userAgent, traceparent: details.traceparent }, 1);
          return 'recorded';
        }
        metrics.folded(1);
        const now = clock.now();
        let key = `${method}\n${outcome}\n${reason}\n${details.verifiedCaller ?? ''}`;
        if (!summaries.has(key) && summaries.size >= MAX_SUMMARY_KEYS) key = '*';
        const summary = summaries.get(key);
        if (summary) {
          summary.count += 1;
          summary.lastTime = now;
        } else {
          // The overflow key keeps only what every refusal has in common: the service.
          const input = key === '*' ? { ...base, action: '*', reason: 'many', actor: undefined, callerService: undefined } : base;
          summaries.set(key, { input, count: 1, firstTime: now, lastTime: now });
        }
        return 'folded';
      } catch (hookError) {
        logger.error({ err: hookError }, 'recording a refused call failed');
        return 'recorded';
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
