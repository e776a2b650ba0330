import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { leafHash } from './merkle.js';
import { CheckpointError, parseVerifierKey, signCheckpoint, verifierKey, verifyCheckpoint, type TreeHead } from './checkpoint.js';

const keys = () => generateKeyPairSync('ed25519');
const head: TreeHead = { origin: 'jamey.io/audit', size: 42, rootHash: leafHash(Buffer.from('root')) };
const toolDir = fileURLToPath(new URL('../../tools/ct-vectors', import.meta.url));
const go = (args: string[], input: string) => execFileSync('go', ['run', '.', ...args], { cwd: toolDir, input, encoding: 'utf8', timeout: 180_000 });

describe('signed tree heads (C2SP checkpoints, Ed25519)', () => {
  it('round-trips: what is signed verifies with the verifier key, and says what was signed', () => {
    const { privateKey, publicKey } = keys();
    const signed = signCheckpoint(head, 'jamey.io/audit', privateKey);
    const verified = verifyCheckpoint(signed.note, verifierKey('jamey.io/audit', publicKey));
    expect(verified.size).toBe(42);
    expect(Buffer.from(verified.rootHash)).toEqual(Buffer.from(head.rootHash));
    expect(verified.origin).toBe('jamey.io/audit');
    expect(signed.note).toMatch(/^jamey\.io\/audit\n42\n[A-Za-z0-9+/]{43}=\n\n\u2014 jamey\.io\/audit [A-Za-z0-9+/]+=*\n$/);
  });

  it('rejects a changed size, a changed root, another key and a truncated note', () => {
    const { privateKey, publicKey } = keys();
    const vkey = verifierKey('jamey.io/audit', publicKey);
    const { note } = signCheckpoint(head, 'jamey.io/audit', privateKey);
    expect(() => verifyCheckpoint(note.replace('\n42\n', '\n43\n'), vkey)).toThrow(/signature does not verify/);
    const otherRoot = Buffer.from(leafHash(Buffer.from('other'))).toString('base64');
    expect(() => verifyCheckpoint(note.replace(/\n([A-Za-z0-9+/]{43}=)\n\n/, `\n${otherRoot}\n\n`), vkey)).toThrow(CheckpointError);
    expect(() => verifyCheckpoint(note, verifierKey('jamey.io/audit', keys().publicKey))).toThrow(/no signature by/);
    expect(() => verifyCheckpoint(note.slice(0, note.indexOf('\n\n')), vkey)).toThrow(/not a signed note/);
    expect(() => parseVerifierKey(vkey.replace(/\+([0-9a-f]{8})\+/, '+00000000+'))).toThrow(/key id does not match/);
  });

  it('refuses heads it cannot represent', () => {
    const { privateKey } = keys();
    expect(() => signCheckpoint({ ...head, size: -1 }, 'k', privateKey)).toThrow(/size/);
    expect(() => signCheckpoint({ ...head, rootHash: new Uint8Array(31) }, 'k', privateKey)).toThrow(/32 bytes/);
    expect(() => signCheckpoint(head, 'has space', privateKey)).toThrow(/key name/);
    expect(() => signCheckpoint(head, 'k', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)).toThrow(/Ed25519/);
  });
});

describe('interoperability with golang.org/x/mod/sumdb/note (the Go checksum database)', () => {
  it('Go verifies the notes Jamey signs', () => {
    const { privateKey, publicKey } = keys();
    const signed = signCheckpoint(head, 'jamey.io/audit', privateKey);
    const text = go(['-verify-note', verifierKey('jamey.io/audit', publicKey)], signed.note);
    expect(text).toBe(signed.note.slice(0, signed.note.indexOf('\n\n') + 1));
    const tampered = signed.note.replace('\n42\n', '\n41\n');
    expect(() => go(['-verify-note', verifierKey('jamey.io/audit', publicKey)], tampered)).toThrow();
  }, 200_000);

  it('Jamey verifies the notes Go signs, with the verifier key Go prints', () => {
    const body = `jamey.io/audit\n7\n${Buffer.from(head.rootHash).toString('base64')}\n`;
    const { verifierKey: vkey, note } = JSON.parse(go(['-sign-note', 'jamey.io/audit'], body)) as { verifierKey: string; note: string };
    const verified = verifyCheckpoint(note, vkey);
    expect(verified.size).toBe(7);
    expect(() => verifyCheckpoint(note.replace('\n7\n', '\n8\n'), vkey)).toThrow(/signature does not verify/);
  }, 200_000);
});
