// Lint enforces the module boundaries of STYLE.md §6: project tags with real depConstraints,
// and domain code that cannot import transport or driver packages.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const DRIVER_PACKAGES = ['@grpc/*', 'kafkajs', 'pg', 'ioredis', 'fastify', '@fastify/*'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'libs/proto/src/gen/**', '.data/**', '.infra/**', '.nx/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          // The deployment tests import the chart's generator scripts, which belong to no project.
          allow: ['^(\\.\\./)+deploy/scripts/[\\w-]+\\.mjs$'],
          depConstraints: [
            // Apps are leaves: nothing but the embedded host may import an app.
            { sourceTag: 'type:host', onlyDependOnLibsWithTags: ['type:app', 'type:lib', 'type:util'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:util'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:app', 'type:lib', 'type:util', 'type:test'] },
            // A service's code reaches only its own scope and shared libraries.
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:host', onlyDependOnLibsWithTags: ['*'] },
            { sourceTag: 'scope:memory', onlyDependOnLibsWithTags: ['scope:memory', 'scope:shared'] },
            { sourceTag: 'scope:consciousness', onlyDependOnLibsWithTags: ['scope:consciousness', 'scope:shared'] },
            { sourceTag: 'scope:soul', onlyDependOnLibsWithTags: ['scope:soul', 'scope:shared'] },
            { sourceTag: 'scope:audit', onlyDependOnLibsWithTags: ['scope:audit', 'scope:shared'] },
            { sourceTag: 'scope:telemetry', onlyDependOnLibsWithTags: ['scope:telemetry', 'scope:shared'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:gateway', 'scope:shared'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Domain code is pure: transports and drivers live in adapters/.
    files: ['apps/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: DRIVER_PACKAGES, message: 'Domain code must not import transports or drivers; use an adapter.' }] },
      ],
    },
  },
);
