import { createHash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency v2), §2.1: SHA-256, leaf hash
 * `H(0x00 || entry)`, node hash `H(0x01 || left || right)`, and the empty tree's hash `H()`.
 *
 * The tree is stored as its *perfect subtrees*: node (level, index) is the hash of the 2^level
 * leaves starting at `index * 2^level`. Such a node never changes once its last leaf exists, so
 * appending writes O(1) amortised nodes, and the hash of any range the RFC's recursion visits
 * is a combination of O(log n) stored nodes. The functions here are pure: they say which nodes
 * they need ({@link NodeId}) and compute from a lookup, so storage can fetch them in one query.
 */

/** A perfect subtree: `2^level` leaves starting at leaf `index * 2^level`. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** Looks up stored perfect-subtree hashes. Must return every node it is asked for. */
export type NodeLookup = (node: NodeId) => Uint8Array;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** `SHA-256(0x00 || entry)`. */
export function leafHash(entry: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(entry).digest();
}

/** `SHA-256(0x01 || left || right)`. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The hash of the empty tree, `SHA-256()`. */
export function emptyRoot(): Buffer {
  return createHash('sha256').digest();
}

/** A stable key for maps of nodes. */
export function nodeKey(node: NodeId): string {
  return `${node.level}:${node.index}`;
}

/** The largest power of two smaller than `n` (n ≥ 2): the RFC's split point `k`. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function assertSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`);
}

/**
 * The perfect subtrees whose hashes `MTH(D[start:end])` is made of, left to right: the range
 * split the way the RFC's recursion splits it, down to aligned powers of two. Only ranges the
 * recursion visits (tree prefixes and proof ranges) decompose; others throw a RangeError.
 */
export function rangeNodes(start: number, end: number): NodeId[] {
  assertSize('start', start);
  assertSize('end', end);
  if (end <= start) throw new RangeError(`empty range [${start}, ${end})`);
  const nodes: NodeId[] = [];
  let from = start;
  // Within the recursion every left part is a perfect, aligned subtree; only the rightmost
  // part is ragged, and it is split again.
  while (from < end) {
    const n = end - from;
    if ((n & (n - 1)) === 0 && from % n === 0) {
      nodes.push({ level: Math.log2(n), index: from / n });
      break;
    }
    const k = splitPoint(n);
    if (from % k !== 0) throw new RangeError(`[${start}, ${end}) is not a range of the tree's recursion`);
    nodes.push({ level: Math.log2(k), index: from / k });
    from += k;
  }
  return nodes;
}

/** `MTH(D[start:end])` from stored nodes: the right-to-left fold of {@link rangeNodes}. */
export function rangeHash(start: number, end: number, lookup: NodeLookup): Buffer {
  const nodes = rangeNodes(start, end);
  let hash: Buffer = Buffer.from(lookup(nodes[nodes.length - 1]!));
  for (let i = nodes.length - 2; i >= 0; i -= 1) hash = nodeHash(lookup(nodes[i]!), hash);
  return hash;
}

/** The tree head hash of a tree of `size` leaves. */
export function rootHash(size: number, lookup: NodeLookup): Buffer {
  assertSize('size', size);
  return size === 0 ? emptyRoot() : rangeHash(0, size, lookup);
}

/** A range of leaves `[start, end)` whose hash is one element of a proof. */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The ranges whose hashes make the inclusion proof of leaf `index` in a tree of `size` leaves
 * (RFC 9162 §2.1.3.1, `PATH(m, D[n])`), from the leaf upwards.
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  assertSize('index', index);
  assertSize('size', size);
  if (index >= size) throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
  const path: LeafRange[] = [];
  let start = 0;
  let end = size;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      path.push({ start: start + k, end });
      end = start + k;
    } else {
      path.push({ start, end: start + k });
      start += k;
      m -= k;
    }
  }
  return path.reverse();
}

/**
 * The ranges whose hashes make the consistency proof between tree sizes `size1` and `size2`
 * (RFC 9162 §2.1.4.1, `PROOF(m, D[n])`). Empty when the sizes are equal or `size1` is 0.
 */
export function consistencyProofRanges(size1: number, size2: number): LeafRange[] {
  assertSize('size1', size1);
  assertSize('size2', size2);
  if (size1 > size2) throw new RangeError(`size1 ${size1} is larger than size2 ${size2}`);
  if (size1 === 0 || size1 === size2) return [];
  const proof: LeafRange[] = [];
  // SUBPROOF(m, D[start:end], b), unrolled: each step either descends left (recording the
  // right part) or right (recording the left part), until m is the whole current range.
  let start = 0;
  let end = size2;
  let m = size1;
  let complete = true;
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      proof.push({ start: start + k, end });
      end = start + k;
    } else {
      proof.push({ start, end: start + k });
      start += k;
      m -= k;
      complete = false;
    }
  }
  // SUBPROOF(m, D[m], true) is empty; with b false it is MTH(D[m]).
  if (!complete) proof.push({ start, end });
  return proof.reverse();
}

/** Every stored node the hashes of `ranges` need, without duplicates. */
export function nodesForRanges(ranges: readonly LeafRange[]): NodeId[] {
  const nodes = new Map<string, NodeId>();
  for (const range of ranges) for (const node of rangeNodes(range.start, range.end)) nodes.set(nodeKey(node), node);
  return [...nodes.values()];
}

/**
 * The perfect subtrees that become complete when leaf `index` is appended, bottom-up, with the
 * children each is hashed from: leaf `index` completes node (1, index/2) when index is odd,
 * and so on up. Storage writes the leaf and these in the same transaction.
 */
export function completedParents(index: number): { node: NodeId; left: NodeId; right: NodeId }[] {
  assertSize('index', index);
  const parents: { node: NodeId; left: NodeId; right: NodeId }[] = [];
  let level = 0;
  let i = index;
  while (i % 2 === 1) {
    parents.push({ node: { level: level + 1, index: (i - 1) / 2 }, left: { level, index: i - 1 }, right: { level, index: i } });
    i = (i - 1) / 2;
    level += 1;
  }
  return parents;
}
