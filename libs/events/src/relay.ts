import { type Clock, cryptoRandom, delay } from '@jamey/core';
import { exponentialBackoff } from '@jamey/resilience';
import { createMutex, type Database, type Logger, type Queryable } from '@jamey/data';
import type { EventsObserver } from './observe.js';
import { DEFAULT_MESSAGING_SYSTEM, inSpan, MESSAGING_ATTRIBUTES as M, producerLink, SpanKind } from './tracing.js';
import type { EventTransport, TransportMessage } from './transport.js';

/** Options for {@link createOutboxRelay}. */
export interface OutboxRelayOptions {
  db: Database;
  transport: EventTransport;
  logger: Logger;
  clock: Clock;
  /** How often to look for new rows when not woken, in milliseconds (default 200). */
  pollIntervalMs?: number;
  /** Rows published per round (default 100). */
  batchSize?: number;
  /** How long published rows are kept before pruning, in milliseconds (default 1 day). */
  retentionMs?: number;
  /** Longest pause between retries after a failed send, in milliseconds (default 5000). */
  maxBackoffMs?: number;
  /**
   * The `pg_try_advisory_xact_lock` key that elects the publishing relay of a database
   * (default 0x6a616d6579 — "jamey"). Only relays sharing a key exclude each other.
   */
  lockKey?: bigint;
  onEvent?: EventsObserver;
}

/** Publishes committed outbox rows to the transport. */
export interface OutboxRelay {
  /** Starts the publishing loop (idempotent). */
  start(): void;
  /** Publishes now instead of at the next poll; call it after committing events. */
  wake(): void;
  /** Stops the loop and waits for the round in flight. */
  stop(): Promise<void>;
  /**
   * Publishes everything unpublished now, round after round, until the outbox is empty; for
   * tests and shutdown. Rejects with the transport's error if a send fails.
   */
  drain(signal?: AbortSignal): Promise<void>;
  /** Rows not yet published, counted up to {@link BACKLOG_COUNT_LIMIT} (a bounded query). */
  backlog(signal?: AbortSignal): Promise<number>;
}

interface OutboxRow {
  seq: string;
  topic: string;
  key: string;
  envelope: Buffer;
  headers: Record<string, string>;
}

const DEFAULT_LOCK_KEY = 0x6a616d6579n;
/** The most unpublished rows `backlog()` counts: metrics scrape it, so it must stay cheap. */
export const BACKLOG_COUNT_LIMIT = 100_000;
const PRUNE_EVERY_MS = 60_000;
const SELECT_BATCH = `SELECT seq, topic, key, envelope, headers FROM outbox
  WHERE published_at IS NULL ORDER BY seq LIMIT $1`;

/**
 * Creates the relay that moves committed outbox rows to the transport, oldest first (`seq`
 * order), marking each batch `published_at` after the transport accepted it, and pruning
 * published rows older than `retentionMs`. A failed send is logged and retried with
 * exponential backoff; rows stay unpublished until it succeeds, so nothing is lost or
 * reordered (a batch that partly reached the broker is sent again: delivery is at least once).
 *
 * Only one relay per database publishes at a time:
 * - Postgres: each round runs in one transaction that takes `pg_try_advisory_xact_lock`
 *   (another relay holding it makes this round a no-op), locks the oldest rows `FOR UPDATE`,
 *   sends them, and marks them, so a crash mid-send rolls everything back.
 * - PGlite: it is embedded in one process, and its single connection must not be held while
 *   sending (in-process consumers, and the gRPC calls they make, need the database), so rows
 *   are read, sent and marked in separate statements. Create one relay per PGlite database.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, transport, logger, clock, onEvent } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const batchSize = options.batchSize ?? 100;
  const retentionMs = options.retentionMs ?? 86_400_000;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  // Backoff without jitter: one relay per database retries alone, so there is no herd to spread.
  const backoff = exponentialBackoff({ initialDelayMs: pollIntervalMs, maxDelayMs: maxBackoffMs, jitter: 'none' });
  const lockKey = (options.lockKey ?? DEFAULT_LOCK_KEY).toString();
  const rounds = createMutex(); // one round at a time per relay: loop and drain() share it
  let lastPrune = Number.NEGATIVE_INFINITY;
  let loop: Promise<void> | undefined;
  let stopping: AbortController | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;

  const observe: EventsObserver = (observation) => {
    try {
      onEvent?.(observation);
    } catch (error) {
      logger.warn({ err: error }, 'events observer threw');
    }
  };

  const sendInOrder = async (rows: OutboxRow[], signal?: AbortSignal): Promise<void> => {
    // Consecutive rows of one topic go in one send; topics are sent one after another.
    for (let start = 0; start < rows.length; ) {
      const topic = rows[start]!.topic;
      let end = start;
      while (end < rows.length && rows[end]!.topic === topic) end += 1;
      const messages = rows.slice(start, end).map<TransportMessage>((row) => ({
        key: row.key,
        value: row.envelope,
        headers: row.headers,
      }));
      // A new trace per batch, linked to each event's `create` span: the requests that made
      // these events ended long ago, and the relay loop is nobody's child (see tracing.ts).
      await inSpan(
        `send ${topic}`,
        {
          kind: SpanKind.PRODUCER,
          root: true,
          links: messages.flatMap((message) => producerLink(message.headers)),
          attributes: {
            [M.system]: transport.system ?? DEFAULT_MESSAGING_SYSTEM,
            [M.destination]: topic,
            [M.operationType]: 'send',
            [M.operationName]: 'send',
            [M.batchCount]: messages.length,
          },
        },
        () => transport.send(topic, messages, signal),
      );
      observe({ kind: 'published', topic, count: messages.length });
      start = end;
    }
  };

  const markPublished = (q: Queryable, rows: OutboxRow[], signal?: AbortSignal) =>
    q.query('UPDATE outbox SET published_at = $1::timestamptz WHERE seq = ANY($2::bigint[])', [
      new Date(clock.now()).toISOString(),
      rows.map((row) => row.seq),
    ], signal);

  const prune = async (q: Queryable, signal?: AbortSignal): Promise<void> => {
    const now = clock.now();
    if (now - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = now;
    const { rowCount } = await q.query(
      'DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $1::timestamptz',
      [new Date(now - retentionMs).toISOString()],
      signal,
    );
    if (rowCount > 0) logger.debug?.({ rows: rowCount }, 'pruned published outbox rows');
  };

  /** One round: publishes up to batchSize rows; resolves with how many. */
  const publishRound = async (signal?: AbortSignal): Promise<number> => {
    const release = await rounds.lock(signal);
    try {
      if (db.kind === 'pglite') {
        const { rows } = await db.query<OutboxRow>(SELECT_BATCH, [batchSize], signal);
        if (rows.length > 0) {
          await sendInOrder(rows, signal);
          await markPublished(db, rows, signal);
        } else {
          await prune(db, signal);
        }
        return rows.length;
      }
      return await db.transaction(async (tx) => {
        const lock = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1::bigint) AS locked', [lockKey]);
        if (lock.rows[0]?.locked !== true) return 0; // another relay is publishing this database
        const { rows } = await tx.query<OutboxRow>(`${SELECT_BATCH} FOR UPDATE`, [batchSize]);
        if (rows.length > 0) {
          await sendInOrder(rows, signal);
          await markPublished(tx, rows);
        } else {
          await prune(tx);
        }
        return rows.length;
      }, signal);
    } finally {
      release();
    }
  };

  const backlog = async (signal?: AbortSignal): Promise<number> => {
    const { rows } = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM (SELECT 1 FROM outbox WHERE published_at IS NULL LIMIT $1) AS unpublished',
      [BACKLOG_COUNT_LIMIT],
      signal,
    );
    return Number(rows[0]?.n ?? 0);
  };

  const idle = (ms: number, signal: AbortSignal): Promise<void> => {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    // The poll timer gets its own signal, cancelled as soon as the wait ends: a wake-up must
    // not leave a timer and an abort listener on the relay's long-lived signal behind.
    const timer = new AbortController();
    const stopTimer = (): void => timer.abort();
    signal.addEventListener('abort', stopTimer, { once: true });
    return new Promise<void>((resolve) => {
      wakeUp = resolve;
      delay(ms, timer.signal).then(resolve, resolve);
    }).finally(() => {
      timer.abort();
      signal.removeEventListener('abort', stopTimer);
      wakeUp = undefined;
      woken = false;
    });
  };

  const run = async (signal: AbortSignal): Promise<void> => {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const published = await publishRound(signal);
        failures = 0;
        if (published === batchSize) continue; // more is probably waiting
        await idle(pollIntervalMs, signal);
      } catch (error) {
        if (signal.aborted) break;
        failures += 1;
        const wait = backoff.next(failures, 0, cryptoRandom);
        logger.warn({ err: error, attempt: failures, retryInMs: wait }, 'outbox relay failed to publish; will retry');
        observe({ kind: 'publish_failed', attempt: failures, error });
        await delay(wait, signal).catch(() => undefined);
      }
    }
  };

  return {
    start() {
      if (loop !== undefined) return;
      stopping = new AbortController();
      loop = run(stopping.signal);
    },
    wake() {
      woken = true;
      wakeUp?.();
    },
    async stop() {
      stopping?.abort(new Error('outbox relay stopped'));
      await loop;
      loop = undefined;
      stopping = undefined;
    },
    async drain(signal) {
      for (;;) {
        if ((await publishRound(signal)) > 0) continue;
        if ((await backlog(signal)) === 0) return;
        // Another relay holds the lock: give it a moment, then look again.
        await delay(10, signal);
      }
    },
    backlog,
  };
}
