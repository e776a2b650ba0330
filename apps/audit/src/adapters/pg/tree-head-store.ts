import type { Queryable } from '@jamey/data';
import type { StoredTreeHead, TreeHeadStore } from '../../domain/tree-heads.js';

interface TreeHeadRow {
  size: string | number;
  root_hash: Uint8Array;
  note: string;
  signed_at: Date | string;
}

function toHead(row: TreeHeadRow): StoredTreeHead {
  return { size: Number(row.size), rootHash: Buffer.from(row.root_hash), note: row.note, signedAt: new Date(row.signed_at) };
}

/** The Postgres (and PGlite) store of signed tree heads, table `tree_heads`. */
export function createPgTreeHeadStore(db: Queryable): TreeHeadStore {
  return {
    async latest(signal) {
      const { rows } = await db.query<TreeHeadRow>('SELECT size, root_hash, note, signed_at FROM tree_heads ORDER BY size DESC LIMIT 1', [], signal);
      return rows[0] ? toHead(rows[0]) : undefined;
    },
    async atSize(size, signal) {
      const { rows } = await db.query<TreeHeadRow>('SELECT size, root_hash, note, signed_at FROM tree_heads WHERE size = $1', [size], signal);
      return rows[0] ? toHead(rows[0]) : undefined;
    },
    async insert(head, signal) {
      await db.query(
        `INSERT INTO tree_heads (size, root_hash, note, signed_at) VALUES ($1, decode($2, 'hex'), $3, $4)
         ON CONFLICT (size) DO NOTHING`,
        [head.size, head.rootHash.toString('hex'), head.note, head.signedAt.toISOString()],
        signal,
      );
    },
  };
}
