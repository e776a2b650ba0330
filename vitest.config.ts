import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// One vitest project per workspace package, named after the package, so that
// `vitest run --project @jamey/memory` (each package's `test` target) runs just that one.
// Relative to this file, not the working directory: each package's `test` script runs from
// its own folder with `--root ../..`.
const root = dirname(fileURLToPath(import.meta.url));
const packages = ['libs', 'apps', 'tests', 'bench'].flatMap((group) =>
  existsSync(join(root, group))
    ? readdirSync(join(root, group), { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(join(root, group, entry.name, 'package.json')))
        .map((entry) => join(root, group, entry.name))
    : [],
);

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources, so tests never need a prior build.
  resolve: { conditions: ['@jamey/source'] },
  ssr: { resolve: { conditions: ['@jamey/source'] } },
  test: {
    reporters: ['default'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: packages.map((root) => {
      const name = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string }).name;
      return {
        extends: true,
        test: {
          name,
          root,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          // The end-to-end suite runs last, on its own, one file at a time: its files stop and
          // restart shared infrastructure (Kafka, Redis) and SIGKILL services, which no other
          // suite, and no other end-to-end file, must see.
          sequence: { groupOrder: name === '@jamey/e2e' ? 1 : 0 },
          ...(name === '@jamey/e2e' ? { fileParallelism: false } : {}),
        },
      };
    }),
  },
});
