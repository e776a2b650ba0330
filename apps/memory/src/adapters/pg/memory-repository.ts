import type { Queryable } from '@jamey/data';
import type { MemoryRepository } from '../../domain/memory-service.js';
import type { Memory, MemoryLayer } from '../../domain/memory.js';

interface MemoryRow {
  id: string;
  content: string;
  layer: MemoryLayer;
  tags: string[];
  importance: number;
  created_at: Date | string;
  rank?: number;
}

function toMemory(row: MemoryRow): Memory {
  return {
    id: row.id,
    content: row.content,
    layer: row.layer,
    tags: row.tags,
    importance: Number(row.importance),
    createdAt: new Date(row.created_at),
  };
}

const COLUMNS = 'id, content, layer, tags, importance, created_at';

/** The Postgres (and PGlite) memory repository. */
export function createPgMemoryRepository(db: Queryable): MemoryRepository {
  return {
    async insert(tx, memory, signal) {
      await tx.query(
        `INSERT INTO memories (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`,
        [memory.id, memory.content, memory.layer, memory.tags, memory.importance, memory.createdAt.toISOString()],
        signal,
      );
    },

    async get(id, signal) {
      const { rows } = await db.query<MemoryRow>(`SELECT ${COLUMNS} FROM memories WHERE id = $1`, [id], signal);
      return rows[0] ? toMemory(rows[0]) : undefined;
    },

    async delete(tx, id, signal) {
      const { rowCount } = await tx.query('DELETE FROM memories WHERE id = $1', [id], signal);
      return rowCount > 0;
    },

    async search({ text, layer, after, limit }, signal) {
      // ts_rank_cd returns real; the cursor compares in real too, so a rank read back from a
      // token matches the stored row exactly and pages neither skip nor repeat hits.
      const { rows } = await db.query<MemoryRow & { rank: number }>(
        `SELECT * FROM (
           SELECT ${COLUMNS}, ts_rank_cd(search, q) AS rank
           FROM memories, websearch_to_tsquery('english', $1) AS q
           WHERE search @@ q AND ($2::text IS NULL OR layer = $2::text)
         ) AS ranked
         WHERE ($3::real IS NULL OR (rank, id) < ($3::real, $4::uuid))
         ORDER BY rank DESC, id DESC
         LIMIT $5`,
        [text, layer ?? null, after?.rank ?? null, after?.id ?? null, limit],
        signal,
      );
      return rows.map((row) => ({ memory: toMemory(row), rank: Number(row.rank) }));
    },
  };
}
