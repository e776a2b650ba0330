import type { Clock } from '@jamey/core';
import type { CircuitBreaker } from './circuit-breaker.js';
import { EventEmitter } from './events.js';
import { isDependencyFailure } from './fallback.js';

/** How much of a dependency's functionality is available, best first. */
export const DegradationLevel = {
  /** Everything works. */
  Full: 'full',
  /** The dependency is failing; calls still go to it and fall back when they fail. */
  Degraded: 'degraded',
  /** It keeps failing: optional uses of it are skipped (see `skipAt`). */
  Minimal: 'minimal',
  /** Isolated or failing for long: nothing calls it, every operation falls back. */
  Offline: 'offline',
} as const;
export type DegradationLevel = (typeof DegradationLevel)[keyof typeof DegradationLevel];

const LEVELS: readonly DegradationLevel[] = ['full', 'degraded', 'minimal', 'offline'];
const rank = (level: DegradationLevel): number => LEVELS.indexOf(level);

/** Why a level changed. */
export type DegradationReason = 'circuit-opened' | 'circuit-isolated' | 'recovered' | 'manual';

/** Events of a {@link DegradationManager}. */
export interface DegradationEvents {
  OnDegradationLevelChanged: { dependency: string; from: DegradationLevel; to: DegradationLevel; reason: DegradationReason };
}

/** Options of {@link createDegradationManager}. */
export interface DegradationManagerOptions {
  readonly clock: Clock;
  /** After a breaker closes, the time between steps back up, in ms. Default 30_000. */
  readonly recoveryStepMs?: number;
}

/** What a fallback is told. */
export interface FallbackInfo {
  readonly dependency: string;
  /** The dependency's level when the fallback runs. */
  readonly level: DegradationLevel;
  /** Why: the primary's error, or undefined when the primary was skipped for the level. */
  readonly error: unknown;
}

/** A fallback registered for one operation. */
export interface OperationFallback<T> {
  /** The dependency the operation needs. */
  readonly dependency: string;
  readonly fallback: (info: FallbackInfo) => T | PromiseLike<T>;
  /** Skip the primary (go straight to the fallback) at this level or worse. Default `offline`. */
  readonly skipAt?: DegradationLevel;
}

/** An operation's answer, and whether it came from the fallback. */
export interface DegradedResult<T> {
  readonly value: T;
  /** True when the fallback produced `value`: the response should say it is degraded. */
  readonly degraded: boolean;
  readonly dependency: string;
  readonly level: DegradationLevel;
}

/** A registered operation; {@link DegradableOperation.execute} runs it with its fallback. */
export interface DegradableOperation<T> {
  readonly name: string;
  execute(primary: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<DegradedResult<T>>;
}

interface DependencyState {
  level: DegradationLevel;
  /** Stepping back up since `lastStepAt`, one level per `recoveryStepMs`. */
  recovering: boolean;
  lastStepAt: number;
  breaker: CircuitBreaker | undefined;
}

/**
 * Degradation levels per dependency. A watched breaker drives them: each open steps one level
 * down (so repeated re-opens go Degraded → Minimal → Offline), isolation goes straight to
 * Offline, and a close steps one level up, then one more per `recoveryStepMs` while the breaker
 * stays closed. The recovery steps are applied when levels are read (no timers), and their events
 * fire then. Fallbacks are registered per operation.
 */
export class DegradationManager {
  readonly events = new EventEmitter<DegradationEvents>();
  private readonly clock: Clock;
  private readonly recoveryStepMs: number;
  private readonly dependencies = new Map<string, DependencyState>();
  private readonly operations = new Map<string, DegradableOperation<unknown>>();

  constructor(options: DegradationManagerOptions) {
    this.clock = options.clock;
    this.recoveryStepMs = options.recoveryStepMs ?? 30_000;
    if (!(this.recoveryStepMs > 0)) throw new RangeError(`recoveryStepMs must be > 0, got ${this.recoveryStepMs}`);
  }

  /** Lets `breaker` drive `dependency`'s level. Returns a function that stops watching. */
  watch(dependency: string, breaker: CircuitBreaker): () => void {
    const state = this.state(dependency);
    state.breaker = breaker;
    if (breaker.state === 'isolated') this.change(dependency, state, 'offline', 'circuit-isolated');
    else if (breaker.state !== 'closed' && state.level === 'full') this.change(dependency, state, 'degraded', 'circuit-opened');
    const unsubscribe = [
      breaker.events.on('OnCircuitOpened', () => this.change(dependency, state, stepDown(state.level), 'circuit-opened')),
      breaker.events.on('OnCircuitIsolated', () => this.change(dependency, state, 'offline', 'circuit-isolated')),
      breaker.events.on('OnCircuitClosed', () => {
        this.change(dependency, state, stepUp(state.level), 'recovered');
        state.recovering = state.level !== 'full';
        state.lastStepAt = this.clock.now();
      }),
    ];
    return () => {
      for (const off of unsubscribe) off();
      if (state.breaker === breaker) state.breaker = undefined;
    };
  }

  /** Makes `dependency` known (at Full) so that {@link DegradationManager.levels} lists it. */
  track(dependency: string): void {
    this.state(dependency);
  }

  /** Sets a level by hand (an operator's override); the breaker's next event moves it again. */
  setLevel(dependency: string, level: DegradationLevel): void {
    this.change(dependency, this.state(dependency), level, 'manual');
  }

  /** The current level of `dependency`; Full for one never seen. */
  level(dependency: string): DegradationLevel {
    const state = this.dependencies.get(dependency);
    if (state === undefined) return 'full';
    this.recover(dependency, state);
    return state.level;
  }

  /** Every known dependency's current level, for the gateway and telemetry. */
  levels(): Readonly<Record<string, DegradationLevel>> {
    const result: Record<string, DegradationLevel> = {};
    for (const [dependency, state] of [...this.dependencies].sort(([a], [b]) => a.localeCompare(b))) {
      this.recover(dependency, state);
      result[dependency] = state.level;
    }
    return result;
  }

  /** Registers `operation`'s fallback; the returned handle runs it. */
  registerFallback<T>(operation: string, options: OperationFallback<T>): DegradableOperation<T> {
    this.track(options.dependency);
    const skipRank = rank(options.skipAt ?? 'offline');
    const handle: DegradableOperation<T> = {
      name: operation,
      execute: async (primary, signal) => {
        const dependency = options.dependency;
        const fallback = async (error: unknown): Promise<DegradedResult<T>> => {
          const level = this.level(dependency);
          return { value: await options.fallback({ dependency, level, error }), degraded: true, dependency, level };
        };
        if (rank(this.level(dependency)) >= skipRank) return fallback(undefined);
        try {
          const value = await primary();
          return { value, degraded: false, dependency, level: this.level(dependency) };
        } catch (error) {
          if (signal?.aborted === true || !isDependencyFailure(error)) throw error;
          return fallback(error);
        }
      },
    };
    this.operations.set(operation, handle as DegradableOperation<unknown>);
    return handle;
  }

  /** Runs a registered operation by name. @throws {RangeError} when none is registered. */
  execute<T>(operation: string, primary: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<DegradedResult<T>> {
    const handle = this.operations.get(operation) as DegradableOperation<T> | undefined;
    if (handle === undefined) return Promise.reject(new RangeError(`no fallback registered for operation ${operation}`));
    return handle.execute(primary, signal);
  }

  private state(dependency: string): DependencyState {
    let state = this.dependencies.get(dependency);
    if (state === undefined) {
      state = { level: 'full', recovering: false, lastStepAt: 0, breaker: undefined };
      this.dependencies.set(dependency, state);
    }
    return state;
  }

  private recover(dependency: string, state: DependencyState): void {
    if (!state.recovering) return;
    if (state.breaker !== undefined && state.breaker.state !== 'closed') {
      state.recovering = false;
      return;
    }
    const steps = Math.floor((this.clock.now() - state.lastStepAt) / this.recoveryStepMs);
    if (steps <= 0) return;
    const to = LEVELS[Math.max(0, rank(state.level) - steps)]!;
    state.lastStepAt += steps * this.recoveryStepMs;
    this.change(dependency, state, to, 'recovered');
    state.recovering = to !== 'full';
  }

  private change(dependency: string, state: DependencyState, to: DegradationLevel, reason: DegradationReason): void {
    state.recovering = false;
    const from = state.level;
    if (from === to) return;
    state.level = to;
    this.events.emit('OnDegradationLevelChanged', { dependency, from, to, reason });
  }
}

function stepDown(level: DegradationLevel): DegradationLevel {
  return LEVELS[Math.min(LEVELS.length - 1, rank(level) + 1)]!;
}

function stepUp(level: DegradationLevel): DegradationLevel {
  return LEVELS[Math.max(0, rank(level) - 1)]!;
}

/** Creates a {@link DegradationManager}. */
export function createDegradationManager(options: DegradationManagerOptions): DegradationManager {
  return new DegradationManager(options);
}
