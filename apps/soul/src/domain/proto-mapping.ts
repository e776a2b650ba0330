import { soul as pb } from '@jamey/proto';
import type { Entity, Interaction } from './entity.js';

/** The proto form of an entity, used in responses and events. */
export function toProtoEntity(entity: Entity): pb.Entity {
  return {
    id: entity.id,
    name: entity.name,
    trust: entity.trust,
    interactionCount: entity.interactionCount,
    createTime: entity.createdAt,
    updateTime: entity.updatedAt,
  };
}

/** The proto form of an interaction. */
export function toProtoInteraction(interaction: Interaction): pb.Interaction {
  return {
    id: interaction.id,
    entityId: interaction.entityId,
    valence: interaction.valence,
    note: interaction.note,
    trustBefore: interaction.trustBefore,
    trustAfter: interaction.trustAfter,
    createTime: interaction.createdAt,
  };
}
