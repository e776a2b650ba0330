import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  VerificationError,
  verifyBundle,
  verifyConsistency,
  verifyInclusion,
} from '../../verifier/verify-audit.mjs';
import { memoryTree } from '../testing/memory-tree.js';
import { signCheckpoint, verifierKey } from './checkpoint.js';
import { consistencyProofRanges, inclusionProofRanges, leafHash, rootHash } from './merkle.js';

const verifierScript = fileURLToPath(new URL('../../verifier/verify-audit.mjs', import.meta.url));

/** A log of `count` entries, built the way storage builds it, with proofs from merkle.ts. */
function log(count: number) {
  const entries = Array.from({ length: count }, (_, i) => Buffer.from(`{"seq":${i},"action":"memory.encoded"}`));
  const { lookup, hashes } = memoryTree(entries);
  return {
    entries,
    root: (size: number) => rootHash(size, lookup),
    inclusion: (index: number, size: number) => hashes(inclusionProofRanges(index, size)),
    consistency: (size1: number, size2: number) => hashes(consistencyProofRanges(size1, size2)),
  };
}

const flip = (hash: Buffer, bit = 0) => {
  const copy = Buffer.from(hash);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
};
const rejects = (fn: () => void) => expect(fn).toThrow(VerificationError);

describe('the independent verifier (verifier/verify-audit.mjs)', () => {
  const tree = log(40);

  it('accepts every honest inclusion proof the audit log produces, up to 40 leaves', () => {
    for (let size = 1; size <= 40; size += 1) {
      for (let index = 0; index < size; index += 1) {
        verifyInclusion(BigInt(index), BigInt(size), leafHash(tree.entries[index]!), tree.inclusion(index, size), tree.root(size));
      }
    }
  });

  it('accepts every honest consistency proof between sizes up to 40', () => {
    for (let size2 = 1; size2 <= 40; size2 += 1) {
      for (let size1 = 0; size1 <= size2; size1 += 1) {
        verifyConsistency(BigInt(size1), BigInt(size2), tree.consistency(size1, size2), tree.root(size1), tree.root(size2));
      }
    }
  });

  it('rejects forged inclusion proofs: wrong leaf, index or size, a flipped bit, a missing or extra hash', () => {
    for (const [index, size] of [
      [0, 8],
      [5, 13],
      [12, 13],
      [31, 40],
    ] as const) {
      const proof = tree.inclusion(index, size);
      const leaf = leafHash(tree.entries[index]!);
      const root = tree.root(size);
      const check = (i: number, n: number, l: Buffer, p: Buffer[], r: Buffer) => () => verifyInclusion(BigInt(i), BigInt(n), l, p, r);
      rejects(check(index, size, leafHash(tree.entries[index === 0 ? 1 : 0]!), proof, root));
      rejects(check(index ^ 1, size, leaf, proof, root));
      // A proof alone does not pin the tree size (sizes with the same path shape agree); the
      // signed checkpoint does, and verifyBundle requires the sizes to match.
      rejects(check(index, size * 2, leaf, proof, root));
      rejects(check(index, size, leaf, proof, tree.root(size - 1)));
      rejects(check(index, size, leaf, proof.slice(0, -1), root));
      rejects(check(index, size, leaf, [...proof, proof[0]!], root));
      proof.forEach((_, i) => rejects(check(index, size, leaf, proof.map((h, j) => (j === i ? flip(h, 7) : h)), root)));
      rejects(check(size, size, leaf, proof, root));
    }
  });

  it('rejects forged consistency proofs: swapped roots, a flipped bit, truncated, wrong sizes', () => {
    for (const [size1, size2] of [
      [1, 8],
      [3, 7],
      [4, 13],
      [21, 40],
    ] as const) {
      const proof = tree.consistency(size1, size2);
      const [root1, root2] = [tree.root(size1), tree.root(size2)];
      const check = (s1: number, s2: number, p: Buffer[], r1: Buffer, r2: Buffer) => () => verifyConsistency(BigInt(s1), BigInt(s2), p, r1, r2);
      rejects(check(size1, size2, proof, root2, root1));
      rejects(check(size1, size2, proof.slice(0, -1), root1, root2));
      rejects(check(size1, size2, [], root1, root2));
      rejects(check(size1 + 1, size2, proof, root1, root2));
      rejects(check(size1, size2 * 2, proof, root1, root2));
      proof.forEach((_, i) => rejects(check(size1, size2, proof.map((h, j) => (j === i ? flip(h, 200) : h)), root1, root2)));
    }
    rejects(() => verifyConsistency(8n, 8n, [tree.root(8)], tree.root(8), tree.root(8)));
    rejects(() => verifyConsistency(9n, 8n, [], tree.root(8), tree.root(8)));
  });

  it('checks a whole bundle: the signed tree head, inclusion and consistency against the previous head', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const key = verifierKey('jamey.io/audit', publicKey);
    const head = (size: number) => signCheckpoint({ origin: 'jamey.io/audit', size, rootHash: tree.root(size) }, 'jamey.io/audit', privateKey).note;
    const b64 = (hashes: Buffer[]) => hashes.map((h) => h.toString('base64'));
    const bundle = {
      key,
      checkpoint: head(40),
      inclusions: [{ leafIndex: 17, treeSize: 40, entry: tree.entries[17]!.toString('base64'), proof: b64(tree.inclusion(17, 40)) }],
      previous: head(25),
      consistency: { fromSize: 25, toSize: 40, proof: b64(tree.consistency(25, 40)) },
    };
    expect(verifyBundle(bundle)).toEqual([
      'checkpoint jamey.io/audit size 40 signed by jamey.io/audit',
      'entry 17 is in the log',
      'tree size 25 is a prefix of tree size 40',
    ]);
    // A log that rewrote entry 17 cannot prove it, and cannot forge the head with another key.
    const forgedEntry = { ...bundle.inclusions[0]!, entry: Buffer.from('{"seq":17,"action":"nothing happened"}').toString('base64') };
    expect(() => verifyBundle({ ...bundle, inclusions: [forgedEntry] })).toThrow(/does not lead to the checkpoint root/);
    const other = generateKeyPairSync('ed25519').privateKey;
    const forgedHead = signCheckpoint({ origin: 'jamey.io/audit', size: 40, rootHash: tree.root(40) }, 'jamey.io/audit', other).note;
    expect(() => verifyBundle({ ...bundle, checkpoint: forgedHead })).toThrow(/no signature by jamey.io\/audit/);
    const resized = bundle.checkpoint.replace('\n40\n', '\n41\n');
    expect(() => verifyBundle({ ...bundle, checkpoint: resized })).toThrow(/signature does not verify/);
    expect(() => verifyBundle({ ...bundle, inclusions: [{ ...bundle.inclusions[0]!, treeSize: 39 }] })).toThrow(/tree size 39/);
    expect(() => verifyBundle({ ...bundle, consistency: { ...bundle.consistency, fromSize: 24 } })).toThrow(/sizes do not match/);
  });

  it('runs as a command: exit 0 with what it proved, 1 with the reason, 2 on bad usage', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const dir = mkdtempSync(join(tmpdir(), 'verify-audit-'));
    const file = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const checkpoint = file('head.txt', signCheckpoint({ origin: 'jamey.io/audit', size: 13, rootHash: tree.root(13) }, 'jamey.io/audit', privateKey).note);
    const inclusion = (index: number, entry: Buffer) =>
      JSON.stringify({ leafIndex: index, treeSize: 13, entry: entry.toString('base64'), proof: tree.inclusion(index, 13).map((h) => h.toString('base64')) });
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [verifierScript, ...args]).then(
        ({ stdout }) => ({ code: 0, out: stdout }),
        (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, out: error.stdout + error.stderr }),
      );
    const key = verifierKey('jamey.io/audit', publicKey);

    const honest = await run(['--key', key, '--checkpoint', checkpoint, '--inclusion', file('ok.json', inclusion(4, tree.entries[4]!))]);
    expect(honest).toEqual({ code: 0, out: 'ok: checkpoint jamey.io/audit size 13 signed by jamey.io/audit\nok: entry 4 is in the log\n' });
    const forged = await run(['--key', key, '--checkpoint', checkpoint, '--inclusion', file('bad.json', inclusion(4, tree.entries[5]!))]);
    expect(forged.code).toBe(1);
    expect(forged.out).toMatch(/FAILED: inclusion proof does not lead to the checkpoint root/);
    expect((await run(['--checkpoint', checkpoint])).code).toBe(2);
  });
});
