import { Type, type Static } from 'typebox';
import { ENTITY_ID_PATTERN, IsoTime, stringEnum } from './common.js';

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

/** Why Φ could not be estimated. */
export const INTEGRATION_GAPS = ['too-few-elements', 'too-few-samples'] as const;

/** Response of `GET /v1/consciousness/integration`: integrated information Φ of the workspace. */
export const IntegrationSchema = Type.Object(
  {
    defined: Type.Boolean({ description: 'Whether Φ could be estimated; when false, `gap` says why.' }),
    phiBits: Type.Number({ minimum: 0, description: 'Φ in bits: the stochastic interaction of the sources at lag 1 across the weakest bipartition; 0 when not defined.' }),
    elements: Type.Array(Type.String(), { description: 'The perception sources that varied in the analysed history.' }),
    partitionA: Type.Array(Type.String(), { description: 'The sources on one side of the minimum information bipartition.' }),
    partitionB: Type.Array(Type.String(), { description: 'The sources on the other side.' }),
    samplePairs: Type.Integer({ minimum: 0, description: 'Lag-1 sample pairs the estimate used.' }),
    gap: Type.Optional(stringEnum(INTEGRATION_GAPS, { description: 'Why Φ is not defined: too-few-elements or too-few-samples. Absent when defined.' })),
    version: Type.Integer({ minimum: 0, description: 'The consciousness stream version the estimate reflects.' }),
    historyLimit: Type.Integer({ minimum: 0, description: 'At most this many recent perceptions are analysed.' }),
  },
  { additionalProperties: false, title: 'Integration' },
);
export type IntegrationJson = Static<typeof IntegrationSchema>;
