import { consciousness as pb } from '@jamey/proto';
import type { IntegrationReport } from './integration.js';
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

const GAPS = {
  too_few_elements: pb.IntegrationGap.INTEGRATION_GAP_TOO_FEW_ELEMENTS,
  too_few_samples: pb.IntegrationGap.INTEGRATION_GAP_TOO_FEW_SAMPLES,
} as const;

/** The proto form of a Φ estimate. */
export function toProtoIntegration(report: IntegrationReport): pb.Integration {
  const { estimate } = report;
  return {
    defined: estimate.defined,
    phiBits: estimate.defined ? estimate.phiBits : 0,
    elements: [...estimate.elements],
    partitionA: estimate.defined ? [...estimate.bipartition[0]] : [],
    partitionB: estimate.defined ? [...estimate.bipartition[1]] : [],
    samplePairs: estimate.pairs,
    gap: estimate.defined ? pb.IntegrationGap.INTEGRATION_GAP_UNSPECIFIED : GAPS[estimate.reason],
    version: report.version,
    historyLimit: report.historyLimit,
  };
}
