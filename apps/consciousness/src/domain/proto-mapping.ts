import { consciousness as pb } from '@jamey/proto';
import type { RecalledMemory } from './ports.js';
import type { Perception, WorkspaceState } from './workspace.js';

/** The proto form of a perception, used in responses and events. */
export function toProtoPerception(perception: Perception): pb.Perception {
  return {
    id: perception.id,
    input: perception.input,
    source: perception.source,
    salience: perception.salience,
    entityId: perception.entityId ?? '',
    perceiveTime: perception.perceivedAt,
  };
}

/** The proto form of a recalled memory. */
export function toProtoContextMemory(memory: RecalledMemory): pb.ContextMemory {
  return { memoryId: memory.memoryId, content: memory.content, rank: memory.rank };
}

/** The proto form of the workspace read model. */
export function toProtoWorkspaceState(state: WorkspaceState): pb.WorkspaceState {
  return {
    focus: state.focus ? toProtoPerception(state.focus) : undefined,
    recent: state.recent.map(toProtoPerception),
    version: state.version,
    perceptionCount: state.perceptionCount,
    updateTime: state.updatedAt,
  };
}
