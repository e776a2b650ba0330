import { Type, type Static } from 'typebox';
import { IsoTime } from './common.js';

/** An entity as returned by the API. */
export const EntitySchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    trust: Type.Number({ minimum: 0, maximum: 1, description: '0.5 is neutral.' }),
    interactionCount: Type.Integer({ minimum: 0 }),
    createTime: IsoTime(),
    updateTime: IsoTime(),
  },
  { additionalProperties: false, title: 'Entity' },
);
export type EntityJson = Static<typeof EntitySchema>;

/** An interaction as returned by the API. */
export const InteractionSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    entityId: Type.String(),
    valence: Type.Number({ minimum: -1, maximum: 1 }),
    note: Type.String(),
    trustBefore: Type.Number(),
    trustAfter: Type.Number(),
    createTime: IsoTime(),
  },
  { additionalProperties: false, title: 'Interaction' },
);
export type InteractionJson = Static<typeof InteractionSchema>;

/** Body of `PUT /v1/entities/{id}`. */
export const UpsertEntityBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export type UpsertEntityBodyJson = Static<typeof UpsertEntityBody>;

/** Body of `POST /v1/entities/{id}/interactions`. */
export const RecordInteractionBody = Type.Object(
  {
    valence: Type.Number({ minimum: -1, maximum: 1, description: 'How the interaction felt, -1 (negative) to 1 (positive).' }),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type RecordInteractionBodyJson = Static<typeof RecordInteractionBody>;

/** Response of `POST /v1/entities/{id}/interactions`. */
export const RecordInteractionResult = Type.Object(
  { entity: EntitySchema, interaction: InteractionSchema },
  { additionalProperties: false },
);
export type RecordInteractionResultJson = Static<typeof RecordInteractionResult>;
