import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, loadSigningKey, verifierKey } from './domain/checkpoint.js';

/** Raised when the audit log's signing key is missing or unusable; the service must not start. */
export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
}

/** Where the signing key comes from. */
export interface SigningKeySource {
  /** `AUDIT_SIGNING_KEY_FILE`: path of an Ed25519 PKCS#8 PEM file (a mounted Secret). */
  readonly file?: string | undefined;
  /** `AUDIT_SIGNING_KEY`: the PEM itself. */
  readonly pem?: string | undefined;
  /**
   * Embedded mode only: a directory where a key is generated once (mode 0600) and reused when
   * neither of the above is set. Without it, a missing key is an error.
   */
  readonly generateIn?: string | undefined;
}

/** The log's signing key with its public verifier key (`<origin>+<key id>+<key>`). */
export interface AuditSigningKey {
  readonly privateKey: KeyObject;
  readonly verifierKey: string;
}

/** The file an embedded host's generated key is kept in. */
export const GENERATED_KEY_FILE = 'audit-signing-key.pem';

/** Loads (or, in embedded mode, creates) the audit log's Ed25519 signing key. @throws SigningKeyError */
export async function loadAuditSigningKey(source: SigningKeySource, origin: string): Promise<AuditSigningKey> {
  const file = source.file?.trim() || undefined;
  const pem = source.pem?.trim() || undefined;
  if (file && pem) throw new SigningKeyError('set either AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE, not both');
  let text: string;
  let where: string;
  if (file) {
    where = `AUDIT_SIGNING_KEY_FILE (${file})`;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new SigningKeyError(`${where} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  } else if (pem) {
    where = 'AUDIT_SIGNING_KEY';
    text = pem;
  } else if (source.generateIn) {
    const path = join(source.generateIn, GENERATED_KEY_FILE);
    where = path;
    text = await readFile(path, 'utf8').catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw new SigningKeyError(`${path} cannot be read: ${error.code ?? 'unreadable'}`);
      const generated = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      await mkdir(source.generateIn!, { recursive: true });
      // 'wx': never overwrite a key another process wrote meanwhile.
      await writeFile(path, generated, { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      await chmod(path, 0o600);
      return readFile(path, 'utf8');
    });
  } else {
    throw new SigningKeyError(
      'the audit log needs an Ed25519 signing key to sign its tree heads: set AUDIT_SIGNING_KEY_FILE (a PKCS#8 PEM file, e.g. a mounted Secret) or AUDIT_SIGNING_KEY; generate one with `openssl genpkey -algorithm ed25519`',
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = loadSigningKey(text);
  } catch (error) {
    // The message never contains key material.
    throw new SigningKeyError(`${where}: ${error instanceof CheckpointError ? error.message : 'not a usable key'}`);
  }
  return { privateKey, verifierKey: verifierKey(origin, createPublicKey(privateKey)) };
}
