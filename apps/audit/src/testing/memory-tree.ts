import {
  completedParents,
  leafHash,
  nodeHash,
  nodeKey,
  rangeHash,
  type LeafRange,
  type NodeId,
} from '../domain/merkle.js';

/**
 * A Merkle tree held in memory, filled the way storage fills it: each leaf, then the parent
 * nodes it completes. Tests compare storage and proofs against it.
 */
export function memoryTree(entries: readonly Uint8Array[]) {
  const nodes = new Map<string, Buffer>();
  entries.forEach((entry, index) => {
    nodes.set(nodeKey({ level: 0, index }), leafHash(entry));
    for (const { node, left, right } of completedParents(index)) {
      nodes.set(nodeKey(node), nodeHash(nodes.get(nodeKey(left))!, nodes.get(nodeKey(right))!));
    }
  });
  const lookup = (node: NodeId): Buffer => {
    const hash = nodes.get(nodeKey(node));
    if (!hash) throw new Error(`node ${nodeKey(node)} is not stored`);
    return hash;
  };
  /** The hash of each range, in order. */
  const hashes = (ranges: readonly LeafRange[]): Buffer[] => ranges.map((range) => rangeHash(range.start, range.end, lookup));
  return { nodes, lookup, hashes };
}
