import type { soul as pb } from '@jamey/proto';
import type {
  EntityJson,
  InteractionJson,
  RecordInteractionBodyJson,
  RecordInteractionResultJson,
  UpsertEntityBodyJson,
} from '../schemas/soul.js';
import { isoTime, required } from './common.js';

/** A proto entity as JSON. */
export function entityToJson(entity: pb.Entity | undefined): EntityJson {
  const e = required(entity, 'entity');
  return {
    id: e.id,
    name: e.name,
    trust: e.trust,
    interactionCount: e.interactionCount,
    createTime: isoTime(e.createTime, 'entity.create_time'),
    updateTime: isoTime(e.updateTime, 'entity.update_time'),
  };
}

/** A proto interaction as JSON. */
export function interactionToJson(interaction: pb.Interaction | undefined): InteractionJson {
  const i = required(interaction, 'interaction');
  return {
    id: i.id,
    entityId: i.entityId,
    valence: i.valence,
    note: i.note,
    trustBefore: i.trustBefore,
    trustAfter: i.trustAfter,
    createTime: isoTime(i.createTime, 'interaction.create_time'),
  };
}

/** `PUT /v1/entities/{id}` as an UpsertEntity request. */
export function upsertEntityRequest(id: string, body: UpsertEntityBodyJson): pb.UpsertEntityRequest {
  return { id, name: body.name };
}

/** `POST /v1/entities/{id}/interactions` as a RecordInteraction request. */
export function recordInteractionRequest(entityId: string, body: RecordInteractionBodyJson): pb.RecordInteractionRequest {
  return { entityId, valence: body.valence, note: body.note ?? '' };
}

/** A RecordInteraction response as JSON. */
export function recordInteractionResult(response: pb.RecordInteractionResponse): RecordInteractionResultJson {
  return { entity: entityToJson(response.entity), interaction: interactionToJson(response.interaction) };
}
