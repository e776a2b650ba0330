import type { Clock, RandomSource } from '@jamey/core';
import type { Database, Logger } from '@jamey/data';
import {
  BrokenCircuitError,
  classifyError,
  createCircuitBreaker,
  createRetry,
  createTimeout,
  exponentialBackoff,
  wrap,
  type CircuitBreaker,
  type RetryPolicy,
  type TimeoutPolicy,
} from '@jamey/resilience';

/** The receiver answered with a status that is not 2xx. */
export class WebhookHttpError extends Error {
  override readonly name = 'WebhookHttpError';
  constructor(readonly status: number) {
    super(`webhook answered HTTP ${status}`);
  }
}

/** 5xx and 429 may pass; other 4xx will not, however often they are sent. */
const transientStatus = (status: number): boolean => status >= 500 || status === 429 || status === 408;

/** Whether a failed delivery is worth another attempt: a transient HTTP status or a network error. */
export function isRetryableDelivery(error: unknown): boolean {
  if (error instanceof BrokenCircuitError) return false;
  if (error instanceof WebhookHttpError) return transientStatus(error.status);
  return classifyError(error) !== 'permanent';
}

/** Options of {@link createWebhookNotifier}. */
export interface WebhookNotifierOptions {
  readonly url: string;
  readonly db: Pick<Database, 'query'>;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  /** Budget of one HTTP attempt, in ms. Default 5000. */
  readonly attemptTimeoutMs?: number;
  /** Attempts within one delivery round (the first included). Default 3. */
  readonly attemptsPerRound?: number;
  /** Delivery rounds before a notification is given up. Default 10. */
  readonly maxRounds?: number;
  /** Pause between background drains, in ms. Default 5000. */
  readonly intervalMs?: number;
}

/** The policies of the webhook edge, for metrics (`kit.addDependency('alert-webhook', …)`). */
export interface WebhookPolicies {
  readonly breaker: CircuitBreaker;
  readonly retry: RetryPolicy;
  readonly timeout: TimeoutPolicy;
}

/** Delivers queued alert notifications to the webhook. A worker (start/stop). */
export interface WebhookNotifier {
  readonly policies: WebhookPolicies;
  /** Delivers what is due now; resolves with how many were delivered. Never rejects for a delivery failure. */
  drainOnce(signal?: AbortSignal): Promise<number>;
  /** Asks for a drain soon (after a commit queued notifications). */
  wake(): void;
  start(): void;
  stop(): Promise<void>;
}

interface NotificationRow {
  id: string;
  payload: unknown;
  attempts: number;
}

/**
 * Creates the webhook notifier. Notifications are rows of `alert_notifications`, written in the
 * same transaction as the alert's state change, so none is lost on a crash. Each drain claims due
 * rows (pushing their next attempt into the future, `FOR UPDATE SKIP LOCKED`, so two telemetry
 * replicas never send the same one), and POSTs each as JSON through retry (exponential backoff,
 * transient failures only) → circuit breaker → per-attempt timeout. Delivered rows are deleted; a
 * failed one is tried again in a later round with a growing delay, and given up after
 * `maxRounds`. An open breaker ends the drain early. Evaluation never waits on any of this.
 */
export function createWebhookNotifier(options: WebhookNotifierOptions): WebhookNotifier {
  const { url, db, clock, random, logger } = options;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 5000;
  const maxRounds = options.maxRounds ?? 10;
  const intervalMs = options.intervalMs ?? 5000;
  const breaker = createCircuitBreaker({
    name: 'alert-webhook',
    clock,
    random,
    strategy: { kind: 'consecutive', threshold: 5 },
    breakDuration: 30_000,
    // The receiver answering 4xx is alive: only transient failures count against it.
    outcomeOf: (error) => (isRetryableDelivery(error) ? 'failure' : 'success'),
  });
  const retry = createRetry({
    name: 'alert-webhook',
    maxRetries: Math.max(0, (options.attemptsPerRound ?? 3) - 1),
    backoff: exponentialBackoff({ initialDelayMs: 200, maxDelayMs: 2000 }),
    shouldRetry: isRetryableDelivery,
    clock,
    random,
  });
  const timeout = createTimeout({ name: 'alert-webhook', timeoutMs: attemptTimeoutMs, clock });
  const pipeline = wrap(retry, breaker, timeout);
  const roundBackoff = exponentialBackoff({ initialDelayMs: 5_000, maxDelayMs: 300_000, jitter: 'none' });
  const claimMs = (attemptTimeoutMs + 2000) * (options.attemptsPerRound ?? 3) + 10_000;

  async function post(payload: unknown, signal?: AbortSignal): Promise<void> {
    await pipeline.execute(async ({ signal: attempt }) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: attempt,
      });
      await response.body?.cancel();
      if (response.status < 200 || response.status > 299) throw new WebhookHttpError(response.status);
    }, signal);
  }

  async function drainOnce(signal?: AbortSignal): Promise<number> {
    const now = clock.now();
    const { rows } = await db.query<NotificationRow>(
      `UPDATE alert_notifications SET next_attempt_at = $2
       WHERE id IN (
         SELECT id FROM alert_notifications
         WHERE gave_up_at IS NULL AND next_attempt_at <= $1
         ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED)
       RETURNING id, payload, attempts`,
      [new Date(now).toISOString(), new Date(now + claimMs).toISOString()],
      signal,
    );
    let delivered = 0;
    for (const row of rows.sort((a, b) => Number(a.id) - Number(b.id))) {
      try {
        await post(row.payload, signal);
        await db.query('DELETE FROM alert_notifications WHERE id = $1', [row.id], signal);
        delivered++;
      } catch (error) {
        signal?.throwIfAborted();
        const attempts = row.attempts + 1;
        const message = error instanceof Error ? error.message : String(error);
        const gaveUp = attempts >= maxRounds || !isRetryableDelivery(error) && !(error instanceof BrokenCircuitError);
        const next = error instanceof BrokenCircuitError ? error.retryAfterMs : roundBackoff.next(attempts, 0, random);
        await db.query(
          `UPDATE alert_notifications SET attempts = $2, last_error = $3, next_attempt_at = $4, gave_up_at = $5 WHERE id = $1`,
          [row.id, attempts, message.slice(0, 1000), new Date(clock.now() + next).toISOString(), gaveUp ? new Date(clock.now()).toISOString() : null],
          signal,
        );
        if (gaveUp) logger.error({ err: error, notification: row.id, attempts }, 'gave up delivering an alert to the webhook');
        else logger.warn({ err: error, notification: row.id, attempts }, 'alert webhook delivery failed; will retry');
        // The breaker is open: the rest would fail fast too. Release them for the next round.
        if (error instanceof BrokenCircuitError) {
          const rest = rows.filter((r) => Number(r.id) > Number(row.id)).map((r) => r.id);
          if (rest.length > 0) await db.query('UPDATE alert_notifications SET next_attempt_at = $2 WHERE id = ANY($1::bigint[])', [rest, new Date(clock.now() + next).toISOString()], signal);
          break;
        }
      }
    }
    return delivered;
  }

  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const loop = (): void => {
    timer = undefined;
    const signal = controller?.signal;
    if (!signal || signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    running = drainOnce(signal)
      .then(
        () => undefined,
        (error: unknown) => {
          if (!signal.aborted) logger.warn({ err: error }, 'alert webhook drain failed');
        },
      )
      .finally(() => {
        running = undefined;
        if (signal.aborted) return;
        if (again) {
          again = false;
          loop();
        } else {
          timer = setTimeout(loop, intervalMs);
        }
      });
  };

  return {
    policies: { breaker, retry, timeout },
    drainOnce,
    wake() {
      if (!controller || controller.signal.aborted) return;
      if (timer) clearTimeout(timer);
      loop();
    },
    start() {
      if (controller && !controller.signal.aborted) return;
      controller = new AbortController();
      loop();
    },
    async stop() {
      controller?.abort(new Error('webhook notifier stopped'));
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
