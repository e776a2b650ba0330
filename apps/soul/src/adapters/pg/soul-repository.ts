import type { Queryable } from '@jamey/data';
import type { Entity } from '../../domain/entity.js';
import type { SoulRepository } from '../../domain/soul-service.js';

interface EntityRow {
  id: string;
  name: string;
  trust: number | string;
  // bigint comes back as a string from both drivers.
  interaction_count: number | string;
  created_at: Date | string;
  updated_at: Date | string;
}

function toEntity(row: EntityRow): Entity {
  return {
    id: row.id,
    name: row.name,
    trust: Number(row.trust),
    interactionCount: Number(row.interaction_count),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

const ENTITY_COLUMNS = 'id, name, trust, interaction_count, created_at, updated_at';

/** The Postgres (and PGlite) soul repository. `db` serves reads outside transactions. */
export function createPgSoulRepository(db: Queryable): SoulRepository {
  return {
    async insertEntityIfAbsent(tx, entity, signal) {
      const { rowCount } = await tx.query(
        `INSERT INTO entities (${ENTITY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [
          entity.id,
          entity.name,
          entity.trust,
          entity.interactionCount,
          entity.createdAt.toISOString(),
          entity.updatedAt.toISOString(),
        ],
        signal,
      );
      return rowCount > 0;
    },

    async lockEntity(tx, id, signal) {
      const { rows } = await tx.query<EntityRow>(`SELECT ${ENTITY_COLUMNS} FROM entities WHERE id = $1 FOR UPDATE`, [id], signal);
      return rows[0] ? toEntity(rows[0]) : undefined;
    },

    async updateEntity(tx, entity, signal) {
      await tx.query(
        'UPDATE entities SET name = $2, trust = $3, interaction_count = $4, updated_at = $5 WHERE id = $1',
        [entity.id, entity.name, entity.trust, entity.interactionCount, entity.updatedAt.toISOString()],
        signal,
      );
    },

    async insertInteraction(tx, interaction, signal) {
      await tx.query(
        `INSERT INTO interactions (id, entity_id, valence, note, trust_before, trust_after, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          interaction.id,
          interaction.entityId,
          interaction.valence,
          interaction.note,
          interaction.trustBefore,
          interaction.trustAfter,
          interaction.createdAt.toISOString(),
        ],
        signal,
      );
    },

    async getEntity(id, signal) {
      const { rows } = await db.query<EntityRow>(`SELECT ${ENTITY_COLUMNS} FROM entities WHERE id = $1`, [id], signal);
      return rows[0] ? toEntity(rows[0]) : undefined;
    },
  };
}
