import { Type, type Static } from 'typebox';
import { ENTITY_ID_PATTERN, IsoTime } from './common.js';

/** A perception as returned by the API. */
export const PerceptionSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    input: Type.String(),
    source: Type.String(),
    salience: Type.Number({ minimum: 0, maximum: 1 }),
    entityId: Type.Optional(Type.String({ description: 'The soul entity the perception came from, when named.' })),
    perceiveTime: IsoTime(),
  },
  { additionalProperties: false, title: 'Perception' },
);
export type PerceptionJson = Static<typeof PerceptionSchema>;

/** Body of `POST /v1/perceptions`. */
export const PerceiveBody = Type.Object(
  {
    input: Type.String({ minLength: 1, maxLength: 10_000 }),
    source: Type.String({ minLength: 1, maxLength: 200, description: 'Where the input came from, for example `chat`.' }),
    salience: Type.Number({ minimum: 0, maximum: 1 }),
    entityId: Type.Optional(Type.String({ pattern: ENTITY_ID_PATTERN, description: 'The soul entity that produced the input.' })),
  },
  { additionalProperties: false },
);
export type PerceiveBodyJson = Static<typeof PerceiveBody>;

/** Response of `POST /v1/perceptions`. */
export const PerceiveResult = Type.Object(
  {
    perception: PerceptionSchema,
    focus: Type.Optional(PerceptionSchema),
    focusChanged: Type.Boolean(),
    context: Type.Array(
      Type.Object(
        { memoryId: Type.String(), content: Type.String(), rank: Type.Number() },
        { additionalProperties: false },
      ),
      { description: 'Memories recalled for the input, best first.' },
    ),
    sourceTrust: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "Jamey's trust in entityId, when soul knows it." })),
    degraded: Type.Array(Type.String(), { description: 'Dependencies that could not be reached; the perception was still recorded.' }),
  },
  { additionalProperties: false },
);
export type PerceiveResultJson = Static<typeof PerceiveResult>;

/** Response of `GET /v1/consciousness/state`. */
export const WorkspaceStateSchema = Type.Object(
  {
    focus: Type.Optional(PerceptionSchema),
    recent: Type.Array(PerceptionSchema, { description: 'Recent perceptions competing for focus, newest first.' }),
    version: Type.Integer({ minimum: 0, description: 'Number of events in the consciousness stream.' }),
    perceptionCount: Type.Integer({ minimum: 0 }),
    updateTime: Type.Optional(IsoTime()),
  },
  { additionalProperties: false, title: 'WorkspaceState' },
);
export type WorkspaceStateJson = Static<typeof WorkspaceStateSchema>;
