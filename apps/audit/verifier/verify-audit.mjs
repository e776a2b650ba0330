#!/usr/bin/env node
// Independent verifier of Jamey's audit log. It trusts one thing, the log's verifier key, and
// checks what the audit API hands out: a signed tree head (C2SP checkpoint), inclusion proofs
// of entries, and a consistency proof from an older tree head. It shares no code with the audit
// service on purpose: it is written from RFC 9162 §2.1.3.2 and §2.1.4.2 and c2sp.org/signed-note,
// and needs only Node.js (no npm install).
//
//   node verify-audit.mjs --key <verifier key> --checkpoint <note file>
//        [--inclusion <proof.json>]... [--previous <older note file> --consistency <proof.json>]
//
// inclusion JSON:   {"leafIndex": 3, "treeSize": 8, "entry": "<base64 entry bytes>", "proof": ["<base64>", ...]}
// consistency JSON: {"fromSize": 4, "toSize": 8, "proof": ["<base64>", ...]}
// Exit status 0 when everything verifies; 1 with the reason otherwise; 2 on bad usage.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const sha256 = (...parts) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const hashLeaf = (entry) => sha256(Buffer.of(0x00), entry);
const hashChildren = (left, right) => sha256(Buffer.of(0x01), left, right);
const lsb = (n) => (n & 1n) === 1n;

export class VerificationError extends Error {}
const fail = (message) => {
  throw new VerificationError(message);
};

function base64Array(values, what) {
  if (!Array.isArray(values)) fail(`${what} must be an array of base64 hashes`);
  return values.map((value, i) => {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.alloc(0);
    if (bytes.length !== 32 || bytes.toString('base64') !== value) fail(`${what}[${i}] is not a base64 SHA-256 hash`);
    return bytes;
  });
}

function size(value, what) {
  if (!Number.isSafeInteger(value) || value < 0) fail(`${what} must be a non-negative integer`);
  return BigInt(value);
}

/** Parses `<name>+<key id>+<base64(0x01 ‖ Ed25519 key)>` and checks the key id. */
export function parseKey(text) {
  const match = /^([^\s+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(String(text).trim());
  if (!match) fail('verifier key must be <name>+<key id>+<key>');
  const [, name, id, encoded] = match;
  const raw = Buffer.from(encoded, 'base64');
  if (raw.length !== 33 || raw[0] !== 0x01) fail('verifier key is not an Ed25519 key');
  const expected = sha256(Buffer.from(`${name}\n`), raw).subarray(0, 4).toString('hex');
  if (expected !== id) fail('verifier key id does not match its name and key');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') }, format: 'jwk' });
  return { name, id: Buffer.from(id, 'hex'), key };
}

/** Verifies a checkpoint note's signature; returns its origin, size and root hash. */
export function verifyCheckpointNote(note, verifierKey) {
  const { name, id, key } = parseKey(verifierKey);
  const split = note.indexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) fail('checkpoint is not a signed note');
  const text = note.slice(0, split + 1);
  const [origin, sizeLine, rootLine] = text.split('\n');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine ?? '')) fail('checkpoint size line is malformed');
  const root = Buffer.from(rootLine ?? '', 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootLine) fail('checkpoint root hash line is malformed');
  const signed = note
    .slice(split + 2, -1)
    .split('\n')
    .map((line) => /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/.exec(line))
    .filter((m) => m && m[1] === name)
    .map((m) => Buffer.from(m[2], 'base64'))
    .filter((blob) => blob.length === 68 && blob.subarray(0, 4).equals(id));
  if (signed.length === 0) fail(`checkpoint carries no signature by ${name}`);
  if (!signed.some((blob) => verify(null, Buffer.from(text), key, blob.subarray(4)))) fail('checkpoint signature does not verify');
  return { origin, size: BigInt(sizeLine), root };
}

/** RFC 9162 §2.1.3.2: is `leafHash` at `index` in the tree of `treeSize` leaves with `root`? */
export function verifyInclusion(index, treeSize, leafHash, proof, root) {
  if (index >= treeSize) fail(`leaf index ${index} is not below tree size ${treeSize}`);
  let fn = index;
  let sn = treeSize - 1n;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n) fail('inclusion proof is too long');
    if (lsb(fn) || fn === sn) {
      r = hashChildren(p, r);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) fail('inclusion proof is too short');
  if (!r.equals(root)) fail('inclusion proof does not lead to the checkpoint root');
}

/** RFC 9162 §2.1.4.2: is the tree (`size1`, `root1`) a prefix of (`size2`, `root2`)? */
export function verifyConsistency(size1, size2, proof, root1, root2) {
  if (size1 > size2) fail(`old size ${size1} is larger than new size ${size2}`);
  if (size1 === size2) {
    if (proof.length !== 0) fail('consistency proof between equal sizes must be empty');
    if (!root1.equals(root2)) fail('equal sizes but different roots');
    return;
  }
  if (size1 === 0n) {
    if (proof.length !== 0) fail('consistency proof from the empty tree must be empty');
    return;
  }
  if (proof.length === 0) fail('consistency proof is empty');
  const path = (size1 & (size1 - 1n)) === 0n ? [root1, ...proof] : [...proof];
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while (lsb(fn)) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) fail('consistency proof is too long');
    if (lsb(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) fail('consistency proof is too short');
  if (!fr.equals(root1)) fail('consistency proof does not lead to the old root');
  if (!sr.equals(root2)) fail('consistency proof does not lead to the new root');
}

/** Checks a checkpoint and any inclusion and consistency proofs; returns what was proven. */
export function verifyBundle({ key, checkpoint, inclusions = [], previous, consistency }) {
  const head = verifyCheckpointNote(checkpoint, key);
  const proven = [`checkpoint ${head.origin} size ${head.size} signed by ${parseKey(key).name}`];
  for (const inclusion of inclusions) {
    const treeSize = size(inclusion.treeSize, 'treeSize');
    if (treeSize !== head.size) fail(`inclusion proof is for tree size ${treeSize}, the checkpoint has ${head.size}`);
    const index = size(inclusion.leafIndex, 'leafIndex');
    if (typeof inclusion.entry !== 'string') fail('inclusion entry must be base64');
    verifyInclusion(index, treeSize, hashLeaf(Buffer.from(inclusion.entry, 'base64')), base64Array(inclusion.proof, 'proof'), head.root);
    proven.push(`entry ${index} is in the log`);
  }
  if ((previous === undefined) !== (consistency === undefined)) fail('--previous and --consistency go together');
  if (previous !== undefined) {
    const old = verifyCheckpointNote(previous, key);
    if (old.origin !== head.origin) fail(`previous checkpoint is of log ${old.origin}, not ${head.origin}`);
    if (size(consistency.fromSize, 'fromSize') !== old.size || size(consistency.toSize, 'toSize') !== head.size) {
      fail('consistency proof sizes do not match the two checkpoints');
    }
    verifyConsistency(old.size, head.size, base64Array(consistency.proof, 'proof'), old.root, head.root);
    proven.push(`tree size ${old.size} is a prefix of tree size ${head.size}`);
  }
  return proven;
}

function main(argv) {
  const args = { inclusions: [] };
  const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) return usage(`${flag} needs a value`);
    if (flag === '--key') args.key = value;
    else if (flag === '--checkpoint') args.checkpoint = readFileSync(value, 'utf8');
    else if (flag === '--previous') args.previous = readFileSync(value, 'utf8');
    else if (flag === '--inclusion') args.inclusions.push(readJson(value));
    else if (flag === '--consistency') args.consistency = readJson(value);
    else return usage(`unknown option ${flag}`);
  }
  if (!args.key || !args.checkpoint) return usage('--key and --checkpoint are required');
  try {
    for (const line of verifyBundle(args)) console.log(`ok: ${line}`);
    return 0;
  } catch (error) {
    console.error(`FAILED: ${error instanceof VerificationError ? error.message : String(error)}`);
    return 1;
  }
}

function usage(message) {
  console.error(`verify-audit: ${message}`);
  console.error('usage: verify-audit.mjs --key <verifier key> --checkpoint <file> [--inclusion <json>]... [--previous <file> --consistency <json>]');
  return 2;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main(process.argv.slice(2));
