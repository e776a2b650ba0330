import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryTree } from '../testing/memory-tree.js';
import {
  consistencyProofRanges,
  emptyRoot,
  inclusionProofRanges,
  leafHash,
  nodeHash,
  nodeKey,
  nodesForRanges,
  rangeHash,
  rangeNodes,
  rootHash,
  type LeafRange,
} from './merkle.js';

/** The in-memory tree, with proof hashes as hex for comparison with the vectors. */
function buildTree(entries: readonly Uint8Array[]) {
  const tree = memoryTree(entries);
  return { ...tree, hashes: (ranges: readonly LeafRange[]) => tree.hashes(ranges).map((hash) => hash.toString('hex')) };
}

/** MTH straight from the RFC's recursive definition, with no stored nodes. */
function referenceMth(entries: readonly Uint8Array[]): Buffer {
  if (entries.length === 0) return emptyRoot();
  if (entries.length === 1) return leafHash(entries[0]!);
  let k = 1;
  while (k * 2 < entries.length) k *= 2;
  return nodeHash(referenceMth(entries.slice(0, k)), referenceMth(entries.slice(k)));
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');

describe('RFC 9162 hashing', () => {
  it('hashes leaves as H(0x00||entry), nodes as H(0x01||l||r) and the empty tree as H()', () => {
    expect(emptyRoot().toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(leafHash(new Uint8Array()).toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    const l = leafHash(utf8('a'));
    const r = leafHash(utf8('b'));
    expect(nodeHash(l, r)).toEqual(referenceMth([utf8('a'), utf8('b')]));
    expect(nodeHash(l, r)).not.toEqual(nodeHash(r, l));
  });

  it('computes every prefix root and every proof range from aligned stored subtrees, equal to MTH', () => {
    const entries = Array.from({ length: 45 }, (_, i) => utf8(`e${i}`));
    const { lookup } = buildTree(entries);
    expect(rootHash(0, lookup)).toEqual(emptyRoot());
    for (let size = 1; size <= entries.length; size += 1) {
      expect(rootHash(size, lookup)).toEqual(referenceMth(entries.slice(0, size)));
      const ranges = [
        ...Array.from({ length: size }, (_, index) => inclusionProofRanges(index, size)).flat(),
        ...Array.from({ length: size }, (_, size1) => consistencyProofRanges(size1 + 1, size)).flat(),
      ];
      for (const range of ranges) {
        for (const node of rangeNodes(range.start, range.end)) expect(Number.isInteger(node.index)).toBe(true);
        expect(rangeHash(range.start, range.end, lookup)).toEqual(referenceMth(entries.slice(range.start, range.end)));
      }
    }
    expect(() => rangeNodes(1, 4)).toThrow(/not a range of the tree's recursion/);
  });

  it('rejects impossible proof requests with a RangeError', () => {
    expect(() => inclusionProofRanges(3, 3)).toThrow(RangeError);
    expect(() => inclusionProofRanges(-1, 3)).toThrow(RangeError);
    expect(() => consistencyProofRanges(4, 3)).toThrow(RangeError);
    expect(() => rangeNodes(2, 2)).toThrow(RangeError);
    expect(consistencyProofRanges(0, 5)).toEqual([]);
    expect(consistencyProofRanges(5, 5)).toEqual([]);
  });

  it('names each node a proof needs once, so storage fetches them in one query', () => {
    const ranges = inclusionProofRanges(5, 13);
    const nodes = nodesForRanges(ranges);
    expect(new Set(nodes.map(nodeKey)).size).toBe(nodes.length);
    expect(nodes.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(13)));
  });
});

interface Vectors {
  leafInputs: string[];
  rootHashes: string[];
  nodeHashes: string[][];
  max: number;
  roots: string[];
  inclusion: { index: number; size: number; proof: string[] }[];
  consistency: { size1: number; size2: number; proof: string[] }[];
}

/**
 * The published RFC 6962 / Certificate Transparency vectors and reference proofs, from
 * github.com/transparency-dev/merkle (Go module proxy) via tools/ct-vectors.
 */
function loadVectors(): Vectors | string {
  const dir = fileURLToPath(new URL('../../tools/ct-vectors', import.meta.url));
  try {
    return JSON.parse(execFileSync('go', ['run', '.', '-max', '33'], { cwd: dir, encoding: 'utf8', timeout: 180_000, maxBuffer: 64 << 20 })) as Vectors;
  } catch (error) {
    return `go run tools/ct-vectors failed: ${(error as Error).message}`;
  }
}

describe('against the Certificate Transparency vectors (github.com/transparency-dev/merkle)', () => {
  let vectors: Vectors;
  beforeAll(() => {
    const loaded = loadVectors();
    if (typeof loaded === 'string') throw new Error(`${loaded}. These tests need Go and the Go module proxy.`);
    vectors = loaded;
  }, 200_000);

  it('reproduces every published subtree hash and the root of every prefix of the published leaves', () => {
    const entries = vectors.leafInputs.map((hex) => Buffer.from(hex, 'hex'));
    const { nodes, lookup } = buildTree(entries);
    vectors.nodeHashes.forEach((level, l) =>
      level.forEach((hash, index) => expect(nodes.get(nodeKey({ level: l, index }))?.toString('hex')).toBe(hash)),
    );
    vectors.rootHashes.forEach((root, size) => expect(rootHash(size, lookup).toString('hex')).toBe(root));
  });

  it('produces the reference inclusion proof for every leaf of every tree up to 33 leaves', () => {
    const entries = Array.from({ length: vectors.max }, (_, i) => utf8(`leaf-${i}`));
    const { lookup, hashes } = buildTree(entries);
    vectors.roots.forEach((root, size) => expect(rootHash(size, lookup).toString('hex')).toBe(root));
    expect(vectors.inclusion.length).toBe((vectors.max * (vectors.max + 1)) / 2);
    for (const { index, size, proof } of vectors.inclusion) {
      expect(hashes(inclusionProofRanges(index, size)), `inclusion ${index} in ${size}`).toEqual(proof);
    }
  });

  it('produces the reference consistency proof between every pair of sizes up to 33', () => {
    const entries = Array.from({ length: vectors.max }, (_, i) => utf8(`leaf-${i}`));
    const { hashes } = buildTree(entries);
    expect(vectors.consistency.length).toBe((vectors.max * (vectors.max + 1)) / 2);
    for (const { size1, size2, proof } of vectors.consistency) {
      expect(hashes(consistencyProofRanges(size1, size2)), `consistency ${size1} → ${size2}`).toEqual(proof);
    }
  });
});
