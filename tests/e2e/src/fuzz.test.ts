import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeWithInfra } from '@jamey/data/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEmbeddedSystem, type JameySystem } from './system.js';

/** `JAMEY_SCHEMATHESIS`: the `st` binary that `scripts/infra.sh up` installs from PyPI. */
const SCHEMATHESIS = 'JAMEY_SCHEMATHESIS';
const CONFIG = fileURLToPath(new URL('../schemathesis.toml', import.meta.url));
/** Per operation; with 19 operations and every phase this is well over the 1000 cases required. */
const MAX_EXAMPLES = 150;
const MIN_CASES = 1000;
/**
 * CI fuzzes with a fixed seed, so a red run reproduces exactly; `JAMEY_FUZZ_SEED` explores
 * other inputs (every failure report prints its own seed and a curl to replay it).
 */
const SEED = process.env['JAMEY_FUZZ_SEED'] || '20261123';

/**
 * The checks that must hold for every generated request: no 5xx, every status, content type,
 * header and body as the OpenAPI document declares, requests that break the schema refused
 * with a 4xx, and methods the document does not list answered 405.
 */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'response_headers_conformance',
  'negative_data_rejection',
  'unsupported_method',
];

/** Runs `st` in a scratch folder, so its example database and caches stay out of the repository. */
function runSchemathesis(bin: string, args: string[]): Promise<{ code: number; output: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'jamey-schemathesis-'));
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, timeout: 600_000, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      rmSync(cwd, { recursive: true, force: true });
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}\n${stderr}` });
    });
  });
}

describeWithInfra([SCHEMATHESIS], 'Schemathesis against the running system', (env) => {
  let system: JameySystem;
  beforeAll(async () => {
    // The fuzzer sends thousands of requests as one subject: the rate limit would answer most of
    // them 429 and leave the routes behind it untested.
    system = await startEmbeddedSystem({ JAMEY_RATE_LIMIT_MAX: '1000000000' });
  }, 180_000);
  afterAll(async () => {
    await system?.stop();
  }, 60_000);

  it(`finds no 5xx and no response that breaks the OpenAPI document in at least ${MIN_CASES} cases`, async () => {
    const { code, output } = await runSchemathesis(env[SCHEMATHESIS]!, [
      '--config-file',
      CONFIG,
      '--no-color',
      'run',
      `${system.gatewayUrl}/openapi.json`,
      '--header',
      `Authorization: ${system.authorization}`,
      '--checks',
      CHECKS.join(','),
      '--max-examples',
      String(MAX_EXAMPLES),
      '--workers',
      '2',
      '--seed',
      SEED,
    ]);
    const generated = Number(/(\d+) generated/.exec(output)?.[1] ?? 0);
    console.info(`Schemathesis (seed ${SEED}): ${generated} cases generated, exit code ${code}`);
    // The summary is the tail of the output: failures, their reproducing curl, the seed.
    expect({ exitCode: code, generated: generated >= MIN_CASES }, output.slice(-20_000)).toEqual({ exitCode: 0, generated: true });
  }, 600_000);
});
