import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevSigningKey } from '../dev-keys.js';
import { createStaticKeys } from '../keys.js';
import { DEV_AUDIENCE, DEV_ISSUER } from '../mode.js';
import { SCOPE_NAMES } from '../scopes.js';
import { createUserTokenVerifier } from '../user-tokens.js';

const run = promisify(execFile);
const libRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(libRoot, 'dist/cli/token.js');

/** Runs the built token command; resolves with its exit code and output, never rejects. */
async function token(args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { env: { ...process.env, JAMEY_DATA_DIR: dataDir } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run token (the built command, in a child process)', () => {
  let dataDir: string;

  beforeAll(async () => {
    // The command the root script runs: build this lib, so the test runs what users run.
    await run(process.execPath, [join(libRoot, '../../node_modules/typescript/bin/tsc'), '-b', libRoot]);
    dataDir = await mkdtemp(join(tmpdir(), 'jamey-token-cmd-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints a token the embedded gateway verifier accepts, with the asked scopes, subject and lifetime', async () => {
    const before = Date.now();
    const result = await token(['--scopes', 'memory:read,memory:write', '--sub', 'alice', '--ttl', '600'], dataDir);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const printed = result.stdout.trim();
    expect(printed).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const key = await ensureDevSigningKey(dataDir);
    const verifier = createUserTokenVerifier({ mode: 'embedded', issuer: DEV_ISSUER, audience: DEV_AUDIENCE, keys: await createStaticKeys(key.publicJwks) });
    const principal = await verifier.verify(printed);
    expect(principal).toMatchObject({ subject: 'alice', issuer: DEV_ISSUER, scopes: new Set(['memory:read', 'memory:write']) });
    expect(principal.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 600_000);
    expect(principal.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
  });

  it('reuses the key it created: a second token verifies with the same key', async () => {
    const key = await ensureDevSigningKey(dataDir);
    const result = await token(['--scopes', 'admin'], dataDir);
    const verifier = createUserTokenVerifier({ mode: 'embedded', issuer: DEV_ISSUER, audience: DEV_AUDIENCE, keys: await createStaticKeys(key.publicJwks) });
    await expect(verifier.verify(result.stdout.trim())).resolves.toMatchObject({ subject: 'developer', scopes: new Set(['admin']) });
  });

  it.each([
    [['--scopes', 'memory:read,memory:delete'], `unknown scope memory:delete; valid scopes: ${SCOPE_NAMES.join(', ')}`],
    [[], '--scopes is required'],
    [['--scopes', 'admin', '--ttl', '0'], '--ttl must be a whole number of seconds from 1 to 604800'],
    [['--scopes', 'admin', '--ttl', '1h'], '--ttl must be a whole number'],
    [['--scopes', 'admin', '--sub', 'has space'], '--sub must be 1 to 255'],
    [['--scopes', 'admin', '--colour'], "Unknown option '--colour'"],
  ])('refuses %j with exit code 2 and a clear message', async (args, message) => {
    const result = await token(args, dataDir);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: npm run -s token');
  });

  it('prints its usage with --help', async () => {
    const result = await token(['--help'], dataDir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`valid: ${SCOPE_NAMES.join(', ')}`);
  });
});
