import { invalidArgument } from '@jamey/core';
import { accessFieldsOf, sameAccessFields } from './access-fields.js';
import { leafEntry, type LeafRecord } from './leaf-entry.js';
import {
  completedParents,
  consistencyProofRanges,
  inclusionProofRanges,
  leafHash,
  nodeHash,
  nodeKey,
  nodesForRanges,
  rangeHash,
  rootHash,
  type LeafRange,
  type NodeId,
} from './merkle.js';

/** The stored Merkle tree and the records it covers. Implemented by the Postgres adapter. */
export interface MerkleStore {
  /** The number of stored leaves (level-0 nodes): one past the highest leaf index. */
  treeSize(signal?: AbortSignal): Promise<number>;
  /** The stored hashes of `nodes`, by {@link nodeKey}; absent nodes are left out. */
  nodes(nodes: readonly NodeId[], signal?: AbortSignal): Promise<Map<string, Buffer>>;
  /** Records with their envelopes, sequence above `after`, oldest first, at most `limit`. */
  leafRecords(after: number, limit: number, signal?: AbortSignal): Promise<LeafRecord[]>;
  /** The record with `sequence`, with its envelope, or undefined. */
  leafRecord(sequence: number, signal?: AbortSignal): Promise<LeafRecord | undefined>;
}

/** An inclusion proof in the independent verifier's shape (bytes, not yet base64). */
export interface InclusionProof {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly entry: Buffer;
  readonly proof: readonly Buffer[];
}

/** A consistency proof in the independent verifier's shape. */
export interface ConsistencyProof {
  readonly fromSize: number;
  readonly toSize: number;
  readonly proof: readonly Buffer[];
}

/** Why {@link VerifiableLog.verify} rejected the log. */
export type VerifyProblem = 'changed' | 'missing' | 'reordered' | 'node' | 'root';

/** The result of {@link VerifiableLog.verify}. */
export type VerifyResult =
  | { readonly ok: true; readonly treeSize: number }
  | { readonly ok: false; readonly treeSize: number; readonly index: number; readonly problem: VerifyProblem; readonly detail: string };

/** A tree head to check the recomputed tree against (a signed head's size and root). */
export interface ExpectedHead {
  readonly size: number;
  readonly rootHash: Uint8Array;
}

/** The audit log's RFC 9162 view: roots, proofs and a full recomputation. */
export interface VerifiableLog {
  treeSize(signal?: AbortSignal): Promise<number>;
  /** The root hash of the tree's first `size` leaves. @throws INVALID_ARGUMENT when size > tree size */
  root(size: number, signal?: AbortSignal): Promise<Buffer>;
  /** @throws INVALID_ARGUMENT when the index or size is out of range */
  inclusionProof(leafIndex: number, treeSize: number, signal?: AbortSignal): Promise<InclusionProof>;
  /** @throws INVALID_ARGUMENT when from > to or to > tree size */
  consistencyProof(fromSize: number, toSize: number, signal?: AbortSignal): Promise<ConsistencyProof>;
  /**
   * Recomputes every leaf from the stored records and every stored node from its children,
   * page by page, and optionally the root of `expected`; reports the first bad leaf index.
   */
  verify(expected?: ExpectedHead, signal?: AbortSignal): Promise<VerifyResult>;
}

/** Records read per page by {@link VerifiableLog.verify}. */
export const VERIFY_PAGE_SIZE = 500;

function assertCount(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw invalidArgument(field, `${field} must be a non-negative integer`);
}

/** Creates the {@link VerifiableLog} over `store`. */
export function createVerifiableLog(store: MerkleStore, pageSize = VERIFY_PAGE_SIZE): VerifiableLog {
  async function lookupFor(nodes: readonly NodeId[], signal?: AbortSignal): Promise<(node: NodeId) => Buffer> {
    const hashes = await store.nodes(nodes, signal);
    return (node) => {
      const hash = hashes.get(nodeKey(node));
      if (!hash) throw new Error(`audit Merkle node (${node.level}, ${node.index}) is missing from storage`);
      return hash;
    };
  }

  async function hashesOf(ranges: readonly LeafRange[], signal?: AbortSignal): Promise<Buffer[]> {
    if (ranges.length === 0) return [];
    const lookup = await lookupFor(nodesForRanges(ranges), signal);
    return ranges.map((r) => rangeHash(r.start, r.end, lookup));
  }

  async function checkSize(field: string, size: number, signal?: AbortSignal): Promise<number> {
    assertCount(field, size);
    const current = await store.treeSize(signal);
    if (size > current) throw invalidArgument(field, `${field} ${size} is larger than the current tree size ${current}`);
    return current;
  }

  return {
    treeSize: (signal) => store.treeSize(signal),

    async root(size, signal) {
      await checkSize('tree_size', size, signal);
      if (size === 0) return rootHash(0, () => Buffer.alloc(0));
      const lookup = await lookupFor(nodesForRanges([{ start: 0, end: size }]), signal);
      return rootHash(size, lookup);
    },

    async inclusionProof(leafIndex, treeSize, signal) {
      assertCount('leaf_index', leafIndex);
      await checkSize('tree_size', treeSize, signal);
      if (leafIndex >= treeSize) throw invalidArgument('leaf_index', `leaf_index ${leafIndex} is not below tree_size ${treeSize}`);
      const record = await store.leafRecord(leafIndex + 1, signal);
      if (!record) throw new Error(`audit record ${leafIndex + 1} is missing from storage`);
      const proof = await hashesOf(inclusionProofRanges(leafIndex, treeSize), signal);
      return { leafIndex, treeSize, entry: leafEntry(record), proof };
    },

    async consistencyProof(fromSize, toSize, signal) {
      assertCount('from_size', fromSize);
      if (fromSize > toSize) throw invalidArgument('from_size', `from_size ${fromSize} is larger than to_size ${toSize}`);
      await checkSize('to_size', toSize, signal);
      return { fromSize, toSize, proof: await hashesOf(consistencyProofRanges(fromSize, toSize), signal) };
    },

    async verify(expected, signal) {
      const size = await store.treeSize(signal);
      const bad = (index: number, problem: VerifyProblem, detail: string): VerifyResult => ({ ok: false, treeSize: size, index, problem, detail });
      if (expected && expected.size > size) {
        return bad(size, 'missing', `the signed tree head has ${expected.size} leaves but storage has ${size}`);
      }
      // The right edge of the recomputed tree: perfect subtrees, largest first (a compact range).
      const frontier: { level: number; hash: Buffer }[] = [];
      let next = 0; // the leaf index the next record must have
      let after = 0;
      const checkRoot = (): VerifyResult | undefined => {
        if (!expected || next !== expected.size) return undefined;
        let root: Buffer | undefined;
        for (let i = frontier.length - 1; i >= 0; i -= 1) root = root ? nodeHash(frontier[i]!.hash, root) : frontier[i]!.hash;
        root ??= rootHash(0, () => Buffer.alloc(0));
        return root.equals(Buffer.from(expected.rootHash))
          ? undefined
          : bad(Math.max(0, next - 1), 'root', `the recomputed root of size ${next} differs from the signed tree head`);
      };
      const early = checkRoot();
      if (early) return early;
      for (;;) {
        signal?.throwIfAborted();
        const records = await store.leafRecords(after, pageSize, signal);
        if (records.length === 0) break;
        const wanted: NodeId[] = [];
        for (const r of records) {
          const index = r.sequence - 1;
          wanted.push({ level: 0, index });
          for (const p of completedParents(index)) wanted.push(p.node);
        }
        // Leaves of the page's other positions, to tell a reordering from a change.
        for (let i = next; i < next + records.length; i += 1) wanted.push({ level: 0, index: i });
        const stored = await store.nodes(wanted, signal);
        for (const record of records) {
          const index = record.sequence - 1;
          if (index !== next) {
            return bad(next, 'missing', `record ${next + 1} is missing (the next stored record is ${record.sequence})`);
          }
          const storedLeaf = stored.get(nodeKey({ level: 0, index }));
          if (!storedLeaf) return bad(index, 'missing', `leaf ${index} has a record but no stored leaf hash`);
          const leaf = leafHash(leafEntry(record));
          if (!leaf.equals(storedLeaf)) {
            for (let k = next; k < next + records.length; k += 1) {
              const other = stored.get(nodeKey({ level: 0, index: k }));
              if (k !== index && other && leafHash(leafEntry({ ...record, sequence: k + 1 })).equals(other)) {
                return bad(index, 'reordered', `record ${record.sequence} holds the entry of leaf ${k} (sequence ${k + 1})`);
              }
            }
            return bad(index, 'changed', `record ${record.sequence} does not match its leaf hash`);
          }
          // The access columns are not in the leaf but derived from data_json, which is: a
          // changed column (an outcome turned from denied to allowed, say) shows here.
          if (!sameAccessFields(record, accessFieldsOf(record.dataSchema, record.dataJson))) {
            return bad(index, 'changed', `record ${record.sequence}'s actor, action, resource or outcome differs from its payload`);
          }
          frontier.push({ level: 0, hash: leaf });
          for (const { node } of completedParents(index)) {
            const right = frontier.pop()!;
            const left = frontier.pop()!;
            const hash = nodeHash(left.hash, right.hash);
            const storedNode = stored.get(nodeKey(node));
            if (!storedNode || !storedNode.equals(hash)) {
              return bad(index, 'node', `stored node (${node.level}, ${node.index}) ${storedNode ? 'differs from' : 'is missing for'} its recomputation`);
            }
            frontier.push({ level: node.level, hash });
          }
          next += 1;
          after = record.sequence;
          const rootProblem = checkRoot();
          if (rootProblem) return rootProblem;
        }
      }
      if (next < size) return bad(next, 'missing', `leaf ${next} is stored but record ${next + 1} is missing`);
      return { ok: true, treeSize: size };
    },
  };
}
