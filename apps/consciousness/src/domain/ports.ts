import type { Queryable } from '@jamey/data';
import type { Perception, RecordedEvent, WorkspaceState } from './workspace.js';

/**
 * The ports the consciousness domain depends on. Adapters implement them: `adapters/grpc` for
 * memory and soul, `adapters/pg` for the event store and the read model.
 */

/** How a call to another service is bounded: never beyond the incoming call's own budget. */
export interface DependencyCallOptions {
  /** Epoch milliseconds; the adapter must give the callee no more time than this. */
  readonly deadline: number | undefined;
  /** The incoming call's signal: cancelling it cancels the dependency call. */
  readonly signal: AbortSignal | undefined;
}

/** A memory recalled as context for a perception. */
export interface RecalledMemory {
  readonly memoryId: string;
  readonly content: string;
  /** Relevance; higher is better. */
  readonly rank: number;
}

/** Recalls memories related to a text (implemented over `MemoryService.SearchMemories`). */
export interface MemoryRecall {
  /** At most `limit` memories, best first. Rejects when memory cannot answer in time. */
  recall(query: string, limit: number, options: DependencyCallOptions): Promise<RecalledMemory[]>;
}

/** Reads Jamey's trust in an entity (implemented over `SoulService.GetEntity`). */
export interface TrustLookup {
  /** Trust 0..1, or undefined when soul does not know the entity. Rejects when soul cannot answer in time. */
  trustOf(entityId: string, options: DependencyCallOptions): Promise<number | undefined>;
}

/** What one command appends to a stream. */
export interface StreamAppend {
  readonly streamId: string;
  /** The version the command read; the append fails with {@link ConcurrencyConflictError} if the stream moved on. */
  readonly expectedVersion: number;
  /** Oldest first; they get versions `expectedVersion + 1 …`. */
  readonly events: readonly RecordedEvent[];
  /** The state after the events: the snapshot (when one is due) and the read model are written from it. */
  readonly state: WorkspaceState;
}

/** The event store plus the read model of the workspace. */
export interface WorkspaceRepository {
  /** The current state: the latest snapshot plus the events after it, read through `db` (a transaction or the pool). */
  load(db: Queryable, streamId: string, signal?: AbortSignal): Promise<WorkspaceState>;
  /**
   * Appends events with optimistic concurrency, takes a snapshot when one is due
   * ({@link shouldSnapshot}) and updates the read model, all through `tx`.
   * @throws ConcurrencyConflictError when another writer appended first.
   */
  append(tx: Queryable, append: StreamAppend, signal?: AbortSignal): Promise<void>;
  /** The state as of `time`: the events with `occurred_at <= time` replayed from the latest snapshot before it. */
  rebuildAt(streamId: string, time: Date, signal?: AbortSignal): Promise<WorkspaceState>;
  /** The read model (CQRS query side); the empty workspace before the first perception. */
  readProjection(streamId: string, signal?: AbortSignal): Promise<WorkspaceState>;
  /**
   * The latest `limit` perceptions of the stream, oldest first, and the stream version they were
   * read at (0 for an empty stream).
   */
  recentPerceptions(streamId: string, limit: number, signal?: AbortSignal): Promise<PerceptionHistory>;
}

/** Recent perceptions of a stream, as read at one version. */
export interface PerceptionHistory {
  /** Oldest first. */
  readonly perceptions: readonly Perception[];
  /** The stream version (last event) when they were read. */
  readonly version: number;
}

/** Another writer appended to the stream after the command read it. */
export class ConcurrencyConflictError extends Error {
  override readonly name = 'ConcurrencyConflictError';

  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    options?: { cause?: unknown },
  ) {
    super(`stream ${streamId} moved past version ${expectedVersion}`, options);
  }
}

/** A snapshot is taken every this many events. */
export const SNAPSHOT_INTERVAL = 100;

/**
 * True when an append that moved a stream from `fromVersion` to `toVersion` crossed a multiple
 * of {@link SNAPSHOT_INTERVAL}. One command can append two events, so the snapshot is taken at
 * the first version at or after each multiple (for example 101 when 99 → 101).
 */
export function shouldSnapshot(fromVersion: number, toVersion: number): boolean {
  return Math.floor(toVersion / SNAPSHOT_INTERVAL) > Math.floor(fromVersion / SNAPSHOT_INTERVAL);
}

/** Where the domain reports what it tolerated (a dependency that failed). Structurally pino. */
export interface DomainLogger {
  warn(fields: object, message: string): void;
}
