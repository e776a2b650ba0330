import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseKey } from '../verifier/verify-audit.mjs';
import { GENERATED_KEY_FILE, loadAuditSigningKey, SigningKeyError } from './signing-key.js';

const dir = mkdtempSync(join(tmpdir(), 'audit-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const origin = 'jamey.io/audit';
const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('the audit signing key', () => {
  it('loads a PKCS#8 PEM from a file or the environment, with a verifier key the independent verifier parses', async () => {
    const file = join(dir, 'key.pem');
    writeFileSync(file, pem);
    const fromFile = await loadAuditSigningKey({ file }, origin);
    const fromEnv = await loadAuditSigningKey({ pem }, origin);
    expect(fromFile.verifierKey).toBe(fromEnv.verifierKey);
    expect(parseKey(fromFile.verifierKey).name).toBe(origin);
  });

  it('refuses to start without a key outside embedded mode, or with a bad or non-Ed25519 key, without echoing it', async () => {
    await expect(loadAuditSigningKey({}, origin)).rejects.toThrow(/needs an Ed25519 signing key.*AUDIT_SIGNING_KEY_FILE/);
    await expect(loadAuditSigningKey({ file: join(dir, 'absent.pem') }, origin)).rejects.toThrow(/AUDIT_SIGNING_KEY_FILE .* cannot be read: ENOENT/);
    await expect(loadAuditSigningKey({ pem: 'secret-garbage' }, origin)).rejects.toThrow(SigningKeyError);
    await expect(loadAuditSigningKey({ pem: 'secret-garbage' }, origin)).rejects.not.toThrow(/secret-garbage/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await expect(loadAuditSigningKey({ pem: rsa }, origin)).rejects.toThrow('AUDIT_SIGNING_KEY: signing key must be Ed25519');
    await expect(loadAuditSigningKey({ pem, file: 'x' }, origin)).rejects.toThrow('not both');
  });

  it('generates a key once in embedded mode, readable by its owner only, and reuses it', async () => {
    const home = join(dir, 'embedded', 'audit');
    const first = await loadAuditSigningKey({ generateIn: home }, origin);
    expect(statSync(join(home, GENERATED_KEY_FILE)).mode & 0o777).toBe(0o600);
    const again = await loadAuditSigningKey({ generateIn: home }, origin);
    expect(again.verifierKey).toBe(first.verifierKey);
  });
});
