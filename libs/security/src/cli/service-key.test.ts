import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileSecretSource } from '../secret.js';
import { createServiceAuth } from '../setup.js';
import { runServiceKeyCommand } from './service-key-command.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jamey-service-key-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runServiceKeyCommand(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

describe('npm run service-key', () => {
  it('writes private keys (0600) and builds the shared JWKS that services then use', async () => {
    const jwks = join(dir, 'service-keys.jwks');
    for (const service of ['gateway', 'memory']) {
      expect((await run(['--service', service, '--key-id', '2026-01', '--out', dir, '--jwks', jwks])).code).toBe(0);
    }
    const gatewayKey = join(dir, 'gateway.2026-01.private.jwk');
    expect((await stat(gatewayKey)).mode & 0o777).toBe(0o600);
    expect((JSON.parse(await readFile(jwks, 'utf8')) as { keys: { kid: string; d?: string }[] }).keys.map((k) => [k.kid, k.d])).toEqual([
      ['gateway/2026-01', undefined],
      ['memory/2026-01', undefined],
    ]);
    const publicKeys = createFileSecretSource(jwks);
    const gateway = await createServiceAuth('gateway', { signingKey: createFileSecretSource(gatewayKey), publicKeys });
    const memory = await createServiceAuth('memory', { signingKey: createFileSecretSource(join(dir, 'memory.2026-01.private.jwk')), publicKeys });
    await expect(memory.verifier!.verify(await gateway.minter.mint('memory', 'alice'))).resolves.toMatchObject({ caller: 'gateway' });
  });

  it('creates a missing output folder, readable by its owner only', async () => {
    const out = join(dir, 'secrets');
    expect((await run(['--service', 'soul', '--key-id', 'k1', '--out', out, '--jwks', join(out, 'service-keys.jwks')])).code).toBe(0);
    expect((await stat(out)).mode & 0o777).toBe(0o700);
    expect((await stat(join(out, 'soul.k1.private.jwk'))).mode & 0o777).toBe(0o600);
  });

  it('never overwrites a private key or duplicates a kid', async () => {
    const jwks = join(dir, 'keys.jwks');
    expect((await run(['--service', 'soul', '--key-id', 'a', '--out', dir, '--jwks', jwks])).code).toBe(0);
    const again = await run(['--service', 'soul', '--key-id', 'a', '--out', dir, '--jwks', jwks]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('EEXIST');
  });

  it('refuses bad arguments with exit code 2, listing every problem', async () => {
    const result = await run(['--service', 'mallory', '--key-id', 'a/b']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--service must be one of gateway, memory, consciousness, soul, audit, telemetry');
    expect(result.stderr).toContain("--key-id must be 1 to 64 letters, digits, '.', '_' or '-'");
    expect(result.stderr).toContain('--out is required');
  });
});
