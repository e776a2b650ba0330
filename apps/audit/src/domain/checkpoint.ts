import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Signed tree heads as C2SP checkpoints (https://c2sp.org/tlog-checkpoint) in signed notes
 * (https://c2sp.org/signed-note), signed with Ed25519: the format of the Go checksum database,
 * Sigsum and other transparency logs, so existing tooling can check Jamey's audit log too.
 *
 * ```text
 * jamey.io/audit            ← origin: names the log
 * 42                        ← tree size
 * qvFMTEGtKOMbS1Bq...=      ← base64 root hash
 *                           ← blank line
 * — jamey.io/audit Ab3x...  ← signature line: key name, base64(key id ‖ signature)
 * ```
 */

/** A tree head: the log's origin, its size and its RFC 9162 root hash. */
export interface TreeHead {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
}

/** A parsed, verified checkpoint. */
export interface SignedTreeHead extends TreeHead {
  /** The whole signed note, exactly as signed and served. */
  readonly note: string;
}

const SIGNATURE_PREFIX = '\u2014 ';
const ED25519 = 0x01;

/** Raised when a checkpoint is malformed or its signature does not verify. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

function assertName(name: string, what: string): void {
  if (name.length === 0 || /[\s+]/u.test(name)) throw new CheckpointError(`${what} must be non-empty with no spaces or '+'`);
}

/** The checkpoint body: origin, size and base64 root hash, one per line. */
export function checkpointBody(head: TreeHead): string {
  assertName(head.origin, 'origin');
  if (!Number.isSafeInteger(head.size) || head.size < 0) throw new CheckpointError(`size must be a non-negative integer, got ${head.size}`);
  if (head.rootHash.length !== 32) throw new CheckpointError('root hash must be 32 bytes');
  return `${head.origin}\n${head.size}\n${Buffer.from(head.rootHash).toString('base64')}\n`;
}

/** The 32 raw bytes of an Ed25519 public key. */
function rawPublicKey(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ed25519') throw new CheckpointError(`expected an Ed25519 key, got ${String(key.asymmetricKeyType)}`);
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}

/** The 4-byte key id of signed notes: SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[0:4]. */
export function keyId(name: string, publicKey: KeyObject): Buffer {
  return createHash('sha256')
    .update(`${name}\n`)
    .update(Uint8Array.of(ED25519))
    .update(rawPublicKey(publicKey))
    .digest()
    .subarray(0, 4);
}

/**
 * The verifier key string verifiers are configured with: `<name>+<hex key id>+<base64(0x01 ‖
 * public key)>`. It is the only thing an independent verifier needs to trust.
 */
export function verifierKey(name: string, publicKey: KeyObject): string {
  assertName(name, 'key name');
  const encoded = Buffer.concat([Uint8Array.of(ED25519), rawPublicKey(publicKey)]).toString('base64');
  return `${name}+${keyId(name, publicKey).toString('hex')}+${encoded}`;
}

/** Signs a tree head with `privateKey` (Ed25519) under key name `keyName`. */
export function signCheckpoint(head: TreeHead, keyName: string, privateKey: KeyObject): SignedTreeHead {
  assertName(keyName, 'key name');
  const body = checkpointBody(head);
  const publicKey = createPublicKey(privateKey);
  const signature = sign(null, Buffer.from(body, 'utf8'), privateKey);
  const line = `${SIGNATURE_PREFIX}${keyName} ${Buffer.concat([keyId(keyName, publicKey), signature]).toString('base64')}\n`;
  return { ...head, rootHash: Uint8Array.from(head.rootHash), note: `${body}\n${line}` };
}

/** Parses a verifier key string. @throws CheckpointError */
export function parseVerifierKey(text: string): { name: string; id: Buffer; publicKey: KeyObject } {
  // The base64 key may itself contain '+': split off the name and the id only.
  const match = /^([^\s+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(text.trim());
  if (!match) throw new CheckpointError('verifier key must be <name>+<8 hex digit key id>+<base64 key>');
  const [, name, idHex, encoded] = match as unknown as [string, string, string, string];
  const raw = Buffer.from(encoded, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519) throw new CheckpointError('verifier key is not an Ed25519 key');
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') }, format: 'jwk' });
  const id = Buffer.from(idHex, 'hex');
  if (!id.equals(keyId(name, publicKey))) throw new CheckpointError('verifier key id does not match its name and key');
  return { name, id, publicKey };
}

/**
 * Parses a checkpoint note and verifies its signature by `verifier` (a verifier key string).
 * @throws CheckpointError when it is malformed, unsigned by that key, or the signature is bad
 */
export function verifyCheckpoint(note: string, verifier: string): SignedTreeHead {
  const key = parseVerifierKey(verifier);
  const split = note.indexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new CheckpointError('not a signed note');
  const body = note.slice(0, split + 1);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointError('checkpoint needs origin, size and root hash lines');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw new CheckpointError(`bad tree size ${JSON.stringify(sizeText)}`);
  const size = Number(sizeText);
  const rootHash = Buffer.from(rootText, 'base64');
  if (!Number.isSafeInteger(size) || rootHash.length !== 32 || rootHash.toString('base64') !== rootText) {
    throw new CheckpointError('bad tree size or root hash');
  }
  const signatures = note.slice(split + 2, -1).split('\n');
  for (const line of signatures) {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw new CheckpointError('malformed signature line');
    const [name, encoded] = line.slice(SIGNATURE_PREFIX.length).split(' ');
    if (name !== key.name || !encoded) continue;
    const blob = Buffer.from(encoded, 'base64');
    if (blob.length !== 68 || !blob.subarray(0, 4).equals(key.id)) continue;
    if (verify(null, Buffer.from(body, 'utf8'), key.publicKey, blob.subarray(4))) return { origin, size, rootHash, note };
    throw new CheckpointError('signature does not verify');
  }
  throw new CheckpointError(`no signature by ${key.name}`);
}

/** Loads an Ed25519 private key from PEM (PKCS#8). @throws CheckpointError */
export function loadSigningKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new CheckpointError('signing key is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new CheckpointError('signing key must be Ed25519');
  return key;
}
