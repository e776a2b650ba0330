import type { Perception, WorkspaceEvent, WorkspaceState } from './workspace.js';

/**
 * JSON shapes of the workspace's events and state, as kept in `consciousness_events.data`,
 * `consciousness_snapshots.state` and the `workspace_state` projection. Times are ISO-8601
 * UTC strings. Changing a shape needs an upcaster here, because old events are never rewritten.
 */

/** A perception in JSON. */
export interface PerceptionJson {
  id: string;
  input: string;
  source: string;
  salience: number;
  entityId?: string;
  perceivedAt: string;
}

/** A workspace state in JSON (snapshots). */
export interface WorkspaceStateJson {
  focus: PerceptionJson | null;
  recent: PerceptionJson[];
  version: number;
  perceptionCount: number;
  updatedAt: string | null;
}

/** An event's type and JSON payload, as stored. */
export interface StoredEventBody {
  readonly type: WorkspaceEvent['type'];
  readonly data: Record<string, unknown>;
}

/** Thrown when stored JSON does not have the expected shape. */
export class CorruptStoreError extends Error {
  override readonly name = 'CorruptStoreError';
}

/** A perception as JSON. */
export function perceptionToJson(perception: Perception): PerceptionJson {
  const json: PerceptionJson = {
    id: perception.id,
    input: perception.input,
    source: perception.source,
    salience: perception.salience,
    perceivedAt: perception.perceivedAt.toISOString(),
  };
  if (perception.entityId !== undefined) json.entityId = perception.entityId;
  return json;
}

/** A perception from JSON. @throws CorruptStoreError */
export function perceptionFromJson(value: unknown): Perception {
  const json = value as Partial<PerceptionJson> | null;
  if (
    typeof json !== 'object' ||
    json === null ||
    typeof json.id !== 'string' ||
    typeof json.input !== 'string' ||
    typeof json.source !== 'string' ||
    typeof json.salience !== 'number' ||
    typeof json.perceivedAt !== 'string' ||
    (json.entityId !== undefined && typeof json.entityId !== 'string')
  ) {
    throw new CorruptStoreError(`not a stored perception: ${JSON.stringify(value)}`);
  }
  return {
    id: json.id,
    input: json.input,
    source: json.source,
    salience: json.salience,
    entityId: json.entityId,
    perceivedAt: new Date(json.perceivedAt),
  };
}

/** An event's stored form. */
export function eventToStored(event: WorkspaceEvent): StoredEventBody {
  switch (event.type) {
    case 'PerceptionReceived':
      return { type: event.type, data: { perception: perceptionToJson(event.perception) } };
    case 'FocusShifted':
      return { type: event.type, data: { previousId: event.previousId ?? null, focus: perceptionToJson(event.focus) } };
  }
}

/** An event from its stored form. @throws CorruptStoreError */
export function eventFromStored(type: string, data: unknown): WorkspaceEvent {
  const body = (data ?? {}) as Record<string, unknown>;
  switch (type) {
    case 'PerceptionReceived':
      return { type, perception: perceptionFromJson(body['perception']) };
    case 'FocusShifted': {
      const previousId = body['previousId'];
      if (previousId !== null && typeof previousId !== 'string') throw new CorruptStoreError('FocusShifted.previousId');
      return { type, previousId: previousId ?? undefined, focus: perceptionFromJson(body['focus']) };
    }
    default:
      throw new CorruptStoreError(`unknown event type ${type}`);
  }
}

/** A state as JSON. */
export function stateToJson(state: WorkspaceState): WorkspaceStateJson {
  return {
    focus: state.focus ? perceptionToJson(state.focus) : null,
    recent: state.recent.map(perceptionToJson),
    version: state.version,
    perceptionCount: state.perceptionCount,
    updatedAt: state.updatedAt?.toISOString() ?? null,
  };
}

/** A state from JSON. @throws CorruptStoreError */
export function stateFromJson(value: unknown): WorkspaceState {
  const json = value as Partial<WorkspaceStateJson> | null;
  if (
    typeof json !== 'object' ||
    json === null ||
    !Array.isArray(json.recent) ||
    typeof json.version !== 'number' ||
    typeof json.perceptionCount !== 'number'
  ) {
    throw new CorruptStoreError('not a stored workspace state');
  }
  return {
    focus: json.focus ? perceptionFromJson(json.focus) : undefined,
    recent: json.recent.map(perceptionFromJson),
    version: json.version,
    perceptionCount: json.perceptionCount,
    updatedAt: typeof json.updatedAt === 'string' ? new Date(json.updatedAt) : undefined,
  };
}
