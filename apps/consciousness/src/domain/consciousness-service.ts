import { JameyError, type Clock, type IdGenerator } from '@jamey/core';
import type { Database, Mutex } from '@jamey/data';
import { catalog, type Outbox } from '@jamey/events';
import { contextQuery } from './context-query.js';
import { workspacePhi, type IntegrationReport } from './integration.js';
import { validatePerceiveInput, type PerceiveInput } from './perception-input.js';
import {
  ConcurrencyConflictError,
  type DomainLogger,
  type MemoryRecall,
  type RecalledMemory,
  type TrustLookup,
  type WorkspaceRepository,
} from './ports.js';
import { toProtoPerception } from './proto-mapping.js';
import { perceive, WORKSPACE_CAPACITY, type Perception, type WorkspaceState } from './workspace.js';

/** The one stream of the global workspace. */
export const WORKSPACE_STREAM = 'workspace';

/** How many memories are recalled as context for a perception. */
export const CONTEXT_MEMORY_LIMIT = 3;

/** How many times a perception is tried when other writers keep appending first. */
export const MAX_APPEND_ATTEMPTS = 5;

/** The names a failed dependency is reported under in `degraded_dependencies`. */
export type DegradableDependency = 'memory' | 'soul';

/**
 * The deadline for the memory and soul calls of one perception. It is never later than the
 * caller's deadline: it is the earlier of `now + budgetMs` and the point that still leaves a
 * quarter of the caller's remaining time to record the perception, so a slow dependency
 * degrades the answer instead of failing the call.
 */
export function enrichmentDeadline(now: number, callerDeadline: number | undefined, budgetMs: number): number {
  const budgetEnd = now + budgetMs;
  if (callerDeadline === undefined) return budgetEnd;
  return Math.min(budgetEnd, now + Math.floor(Math.max(0, callerDeadline - now) * 0.75));
}

/**
 * Φ is estimated from the activity after each of the latest this many perceptions (the
 * perceptions that filled the window before the first of them are read too).
 */
export const PHI_HISTORY = 256;

/** The outcome of a perception. */
export interface PerceiveResult {
  readonly perception: Perception;
  /** The focus after this perception. */
  readonly focus: Perception;
  readonly focusChanged: boolean;
  /** Recalled memories, best first; empty when memory was degraded. */
  readonly context: readonly RecalledMemory[];
  /** Trust in the perception's entity, when one was named and soul knows it. */
  readonly sourceTrust: number | undefined;
  /** Dependencies that failed; the perception was recorded anyway. */
  readonly degradedDependencies: readonly DegradableDependency[];
}

/** Dependencies of {@link createConsciousnessService}. */
export interface ConsciousnessServiceDeps {
  readonly db: Pick<Database, 'transaction'>;
  readonly repository: WorkspaceRepository;
  readonly memory: MemoryRecall;
  readonly trust: TrustLookup;
  readonly outbox: Outbox;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: DomainLogger;
  /**
   * Serializes this process's appends to the workspace stream, so optimistic-concurrency
   * conflicts only arise between replicas, not between concurrent calls on one replica.
   */
  readonly writeLock: Mutex;
  /** Most time the memory and soul calls together may take, in milliseconds. */
  readonly dependencyBudgetMs: number;
  /** Called after a commit that wrote events, so the relay publishes them at once. */
  readonly onEventsCommitted: () => void;
}

/** The caller's budget for one command. */
export interface CommandContext {
  /** Epoch milliseconds; undefined when the caller set none. */
  readonly deadline?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Jamey's global workspace, event-sourced. */
export function createConsciousnessService(deps: ConsciousnessServiceDeps) {
  const { db, repository, outbox, clock, ids, logger } = deps;

  async function enrich(input: string, entityId: string | undefined, context: CommandContext) {
    const options = {
      deadline: enrichmentDeadline(clock.now(), context.deadline, deps.dependencyBudgetMs),
      signal: context.signal,
    };
    const query = contextQuery(input);
    const [recalled, trusted] = await Promise.allSettled([
      query === '' ? Promise.resolve([]) : deps.memory.recall(query, CONTEXT_MEMORY_LIMIT, options),
      entityId === undefined ? Promise.resolve(undefined) : deps.trust.trustOf(entityId, options),
    ]);
    // A caller that went away gets nothing recorded on its behalf.
    context.signal?.throwIfAborted();
    const degraded: DegradableDependency[] = [];
    if (recalled.status === 'rejected') {
      degraded.push('memory');
      logger.warn({ err: recalled.reason, dependency: 'memory' }, 'perceiving without memory context');
    }
    if (trusted.status === 'rejected') {
      degraded.push('soul');
      logger.warn({ err: trusted.reason, dependency: 'soul' }, 'perceiving without source trust');
    }
    return {
      context: recalled.status === 'fulfilled' ? recalled.value : [],
      sourceTrust: trusted.status === 'fulfilled' ? trusted.value : undefined,
      degraded,
    };
  }

  /** One attempt: read the stream, decide, append events + projection + outbox in one transaction. */
  function record(perception: Perception, signal: AbortSignal | undefined) {
    return db.transaction(async (tx) => {
      const state = await repository.load(tx, WORKSPACE_STREAM, signal);
      // Stream time never goes backwards (a replica's clock may lag), which keeps rebuildAt a prefix.
      const occurredAt = new Date(Math.max(clock.now(), state.updatedAt?.getTime() ?? 0));
      const decision = perceive(state, perception, occurredAt);
      await repository.append(
        tx,
        {
          streamId: WORKSPACE_STREAM,
          expectedVersion: state.version,
          events: decision.events.map((event) => ({ event, occurredAt })),
          state: decision.state,
        },
        signal,
      );
      // The workspace is the aggregate: keying both events by it keeps them in order on Kafka.
      await outbox.append(
        tx,
        {
          definition: catalog['consciousness.perceived'],
          subject: WORKSPACE_STREAM,
          data: { perception: toProtoPerception(perception) },
        },
        signal,
      );
      if (decision.focusChanged && decision.state.focus) {
        await outbox.append(
          tx,
          {
            definition: catalog['consciousness.focus_changed'],
            subject: WORKSPACE_STREAM,
            data: {
              previous: decision.previousFocus ? toProtoPerception(decision.previousFocus) : undefined,
              focus: toProtoPerception(decision.state.focus),
            },
          },
          signal,
        );
      }
      return decision;
    }, signal);
  }

  let integrationCache: IntegrationReport | undefined;

  return {
    /**
     * Validates a perception, recalls memory context and source trust concurrently within the
     * caller's budget, then records it. A failed dependency is reported in
     * `degradedDependencies`, never fatal. @throws INVALID_ARGUMENT, CONFLICT (after
     * {@link MAX_APPEND_ATTEMPTS} concurrent-append collisions)
     */
    async perceive(request: PerceiveInput, context: CommandContext = {}): Promise<PerceiveResult> {
      const valid = validatePerceiveInput(request);
      const perception: Perception = {
        id: ids(),
        input: valid.input,
        source: valid.source,
        salience: valid.salience,
        entityId: valid.entityId,
        perceivedAt: new Date(clock.now()),
      };
      const enrichment = await enrich(valid.input, valid.entityId, context);
      for (let attempt = 1; ; attempt += 1) {
        const release = await deps.writeLock.lock(context.signal);
        let decision: Awaited<ReturnType<typeof record>>;
        try {
          decision = await record(perception, context.signal);
        } catch (error) {
          if (!(error instanceof ConcurrencyConflictError)) throw error;
          if (attempt >= MAX_APPEND_ATTEMPTS) {
            throw new JameyError('CONFLICT', 'the workspace kept changing concurrently; retry the perception', {}, { cause: error });
          }
          continue;
        } finally {
          release();
        }
        deps.onEventsCommitted();
        return {
          perception,
          // A perception always leaves a focus behind.
          focus: decision.state.focus ?? perception,
          focusChanged: decision.focusChanged,
          context: enrichment.context,
          sourceTrust: enrichment.sourceTrust,
          degradedDependencies: enrichment.degraded,
        };
      }
    },

    /** The workspace read model (CQRS query side). */
    getState(signal?: AbortSignal): Promise<WorkspaceState> {
      return repository.readProjection(WORKSPACE_STREAM, signal);
    },

    /**
     * Φ of the workspace's recent activity (`domain/integration.ts`). Estimated again only when
     * the stream has moved on since the last estimate.
     */
    async integration(signal?: AbortSignal): Promise<IntegrationReport> {
      const { version } = await repository.readProjection(WORKSPACE_STREAM, signal);
      if (integrationCache?.version === version) return integrationCache;
      const history = await repository.recentPerceptions(WORKSPACE_STREAM, PHI_HISTORY + WORKSPACE_CAPACITY - 1, signal);
      const report: IntegrationReport = { estimate: workspacePhi(history.perceptions), version: history.version, historyLimit: PHI_HISTORY };
      // A concurrent call may have estimated a newer version already; keep the newest.
      if (integrationCache === undefined || report.version >= integrationCache.version) integrationCache = report;
      return report;
    },

    /** The workspace as it was at `time`, rebuilt from the event store. */
    stateAt(time: Date, signal?: AbortSignal): Promise<WorkspaceState> {
      return repository.rebuildAt(WORKSPACE_STREAM, time, signal);
    },
  };
}

/** Jamey's consciousness service. */
export type ConsciousnessService = ReturnType<typeof createConsciousnessService>;
