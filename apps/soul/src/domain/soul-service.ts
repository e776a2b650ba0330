import { notFound, type Clock, type IdGenerator } from '@jamey/core';
import type { Database, Queryable } from '@jamey/data';
import { catalog, type Outbox } from '@jamey/events';
import { validateEntityId, validateName, validateNote, type Entity, type Interaction } from './entity.js';
import { toProtoEntity } from './proto-mapping.js';
import { INITIAL_TRUST, nextTrust, validateValence } from './trust.js';

/** Where entities and interactions are kept. Implemented by the Postgres adapter. */
export interface SoulRepository {
  /** Inserts `entity` unless its id exists; true when it was inserted. */
  insertEntityIfAbsent(tx: Queryable, entity: Entity, signal?: AbortSignal): Promise<boolean>;
  /** Reads an entity and locks its row until `tx` ends (`SELECT … FOR UPDATE`). */
  lockEntity(tx: Queryable, id: string, signal?: AbortSignal): Promise<Entity | undefined>;
  /** Writes an entity's mutable columns: name, trust, interaction count, update time. */
  updateEntity(tx: Queryable, entity: Entity, signal?: AbortSignal): Promise<void>;
  insertInteraction(tx: Queryable, interaction: Interaction, signal?: AbortSignal): Promise<void>;
  getEntity(id: string, signal?: AbortSignal): Promise<Entity | undefined>;
}

/** Dependencies of {@link createSoulService}. */
export interface SoulServiceDeps {
  readonly db: Pick<Database, 'transaction'>;
  readonly repository: SoulRepository;
  readonly outbox: Outbox;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Called after a commit that wrote events, so the relay publishes them at once. */
  readonly onEventsCommitted: () => void;
}

/** The outcome of an upsert. */
export interface UpsertResult {
  readonly entity: Entity;
  /** True when the entity did not exist before. */
  readonly created: boolean;
}

/** The outcome of a recorded interaction. */
export interface InteractionResult {
  readonly entity: Entity;
  readonly interaction: Interaction;
}

/** Jamey's soul: the entities it deals with, its interactions with them and its trust in them. */
export function createSoulService(deps: SoulServiceDeps) {
  const { db, repository, outbox, clock, ids } = deps;

  async function emitUpserted(tx: Queryable, entity: Entity, created: boolean, signal?: AbortSignal): Promise<void> {
    const data = { entity: toProtoEntity(entity), created };
    await outbox.append(tx, { definition: catalog['soul.entity_upserted'], subject: entity.id, data }, signal);
  }

  return {
    /**
     * Creates an entity (trust {@link INITIAL_TRUST}, no interactions) or renames an existing
     * one, and emits `soul.entity_upserted` in the same transaction. Upserting the name an
     * entity already has changes nothing and emits nothing, so the call is idempotent.
     * @throws INVALID_ARGUMENT (`id`, `name`)
     */
    async upsertEntity(input: { id: string; name: string }, signal?: AbortSignal): Promise<UpsertResult> {
      const id = validateEntityId(input.id);
      const name = validateName(input.name);
      const result = await db.transaction(async (tx) => {
        const now = new Date(clock.now());
        const fresh: Entity = { id, name, trust: INITIAL_TRUST, interactionCount: 0, createdAt: now, updatedAt: now };
        // INSERT … ON CONFLICT DO NOTHING settles a race between two creators: the loser waits
        // for the winner's commit and then takes the rename path below on the committed row.
        if (await repository.insertEntityIfAbsent(tx, fresh, signal)) {
          await emitUpserted(tx, fresh, true, signal);
          return { entity: fresh, created: true, changed: true };
        }
        const existing = await repository.lockEntity(tx, id, signal);
        // The row was there a moment ago and entities are never deleted.
        if (!existing) throw new Error(`entity ${id} vanished during upsert`);
        if (existing.name === name) return { entity: existing, created: false, changed: false };
        const renamed: Entity = { ...existing, name, updatedAt: now };
        await repository.updateEntity(tx, renamed, signal);
        await emitUpserted(tx, renamed, false, signal);
        return { entity: renamed, created: false, changed: true };
      }, signal);
      if (result.changed) deps.onEventsCommitted();
      return { entity: result.entity, created: result.created };
    },

    /**
     * Records one interaction with an entity and moves trust by {@link nextTrust}. The entity's
     * row is locked for the transaction, so concurrent interactions on one entity are applied
     * one after another and none is lost. Emits `soul.trust_changed` in the same transaction
     * when trust moved.
     * @throws INVALID_ARGUMENT (`entity_id`, `valence`, `note`), NOT_FOUND
     */
    async recordInteraction(
      input: { entityId: string; valence: number; note: string },
      signal?: AbortSignal,
    ): Promise<InteractionResult> {
      const entityId = validateEntityId(input.entityId, 'entity_id');
      const valence = validateValence(input.valence);
      const note = validateNote(input.note);
      const result = await db.transaction(async (tx) => {
        const entity = await repository.lockEntity(tx, entityId, signal);
        if (!entity) throw notFound('entity', entityId);
        const now = new Date(clock.now());
        const trust = nextTrust(entity.trust, valence);
        const interaction: Interaction = {
          id: ids(),
          entityId,
          valence,
          note,
          trustBefore: entity.trust,
          trustAfter: trust,
          createdAt: now,
        };
        const updated: Entity = { ...entity, trust, interactionCount: entity.interactionCount + 1, updatedAt: now };
        await repository.insertInteraction(tx, interaction, signal);
        await repository.updateEntity(tx, updated, signal);
        const trustChanged = trust !== entity.trust;
        if (trustChanged) {
          await outbox.append(tx, {
            definition: catalog['soul.trust_changed'],
            subject: entityId,
            data: { entityId, previousTrust: entity.trust, trust, interactionId: interaction.id, valence },
          }, signal);
        }
        return { entity: updated, interaction, trustChanged };
      }, signal);
      if (result.trustChanged) deps.onEventsCommitted();
      return { entity: result.entity, interaction: result.interaction };
    },

    /** Reads one entity. @throws INVALID_ARGUMENT (`id`), NOT_FOUND */
    async getEntity(id: string, signal?: AbortSignal): Promise<Entity> {
      const entity = await repository.getEntity(validateEntityId(id), signal);
      if (!entity) throw notFound('entity', id);
      return entity;
    },
  };
}

/** Jamey's soul service. */
export type SoulService = ReturnType<typeof createSoulService>;
