import { consciousness as pb } from '@jamey/proto';
import type { INTEGRATION_GAPS, IntegrationJson, PerceiveBodyJson, PerceiveResultJson, PerceptionJson, WorkspaceStateJson } from '../schemas/consciousness.js';
import { enumMapping, isoTime, nonEmpty, optionalIsoTime, required } from './common.js';

// `unspecified` is what a defined estimate carries: it leaves `gap` out.
const gaps = enumMapping<(typeof INTEGRATION_GAPS)[number] | 'unspecified', pb.IntegrationGap>('IntegrationGap', {
  unspecified: pb.IntegrationGap.INTEGRATION_GAP_UNSPECIFIED,
  'too-few-elements': pb.IntegrationGap.INTEGRATION_GAP_TOO_FEW_ELEMENTS,
  'too-few-samples': pb.IntegrationGap.INTEGRATION_GAP_TOO_FEW_SAMPLES,
});

/** A proto perception as JSON; an empty entity id is left out. */
export function perceptionToJson(perception: pb.Perception): PerceptionJson {
  return {
    id: perception.id,
    input: perception.input,
    source: perception.source,
    salience: perception.salience,
    entityId: nonEmpty(perception.entityId),
    perceiveTime: isoTime(perception.perceiveTime, 'perception.perceive_time'),
  };
}

/** The body of `POST /v1/perceptions` as a Perceive request. */
export function perceiveRequest(body: PerceiveBodyJson): pb.PerceiveRequest {
  return { input: body.input, source: body.source, salience: body.salience, entityId: body.entityId ?? '' };
}

/** A Perceive response as JSON. */
export function perceiveResult(response: pb.PerceiveResponse): PerceiveResultJson {
  return {
    perception: perceptionToJson(required(response.perception, 'perception')),
    focus: response.focus === undefined ? undefined : perceptionToJson(response.focus),
    focusChanged: response.focusChanged,
    context: response.context.map((c) => ({ memoryId: c.memoryId, content: c.content, rank: c.rank })),
    sourceTrust: response.sourceTrust,
    degraded: [...response.degradedDependencies],
  };
}

/** A GetState response as JSON. */
export function workspaceStateToJson(response: pb.GetStateResponse): WorkspaceStateJson {
  const state = required(response.state, 'state');
  return {
    focus: state.focus === undefined ? undefined : perceptionToJson(state.focus),
    recent: state.recent.map(perceptionToJson),
    version: state.version,
    perceptionCount: state.perceptionCount,
    updateTime: optionalIsoTime(state.updateTime),
  };
}

/** A GetIntegration response as JSON; `gap` only when Φ is not defined. */
export function integrationToJson(response: pb.GetIntegrationResponse): IntegrationJson {
  const integration = required(response.integration, 'integration');
  const gap = gaps.fromProto(integration.gap);
  return {
    defined: integration.defined,
    phiBits: integration.phiBits,
    elements: [...integration.elements],
    partitionA: [...integration.partitionA],
    partitionB: [...integration.partitionB],
    samplePairs: integration.samplePairs,
    gap: gap === 'unspecified' ? undefined : gap,
    version: integration.version,
    historyLimit: integration.historyLimit,
  };
}
