import type { consciousness as pb } from '@jamey/proto';
import type { PerceiveBodyJson, PerceiveResultJson, PerceptionJson, WorkspaceStateJson } from '../schemas/consciousness.js';
import { isoTime, nonEmpty, optionalIsoTime, required } from './common.js';

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
