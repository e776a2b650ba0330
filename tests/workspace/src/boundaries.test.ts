import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The rule ids ESLint reports for `code` as if it were the file at `path` (relative to the root). */
async function violations(eslint: ESLint, path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${path}` });
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => m.ruleId ?? m.message);
}

describe('module boundaries (STYLE.md §6), enforced by the lint step of npm test', () => {
  let eslint: ESLint;
  beforeAll(() => {
    eslint = new ESLint({ cwd: root });
  });

  it('bans drivers and transports from domain code', async () => {
    for (const banned of ['pg', 'kafkajs', 'ioredis', 'fastify', '@grpc/grpc-js']) {
      expect(await violations(eslint, 'apps/memory/src/domain/probe.ts', `import x from '${banned}';\nexport const y = x;\n`)).toContain(
        'no-restricted-imports',
      );
    }
  });

  it('lets adapters use drivers', async () => {
    expect(await violations(eslint, 'apps/memory/src/adapters/pg/probe.ts', `import pg from 'pg';\nexport const y = pg;\n`)).toEqual([]);
  });

  it('stops one service importing another', async () => {
    const found = await violations(
      eslint,
      'apps/consciousness/src/adapters/probe.ts',
      `import { startMemoryService } from '@jamey/memory';\nexport const y = startMemoryService;\n`,
    );
    expect(found).toContain('@nx/enforce-module-boundaries');
  });

  it('stops a library importing an app, and a util importing a lib', async () => {
    expect(
      await violations(eslint, 'libs/rpc/src/probe.ts', `import { startSoulService } from '@jamey/soul';\nexport const y = startSoulService;\n`),
    ).toContain('@nx/enforce-module-boundaries');
    expect(
      await violations(eslint, 'libs/core/src/probe.ts', `import { openDatabase } from '@jamey/data';\nexport const y = openDatabase;\n`),
    ).toContain('@nx/enforce-module-boundaries');
  });

  it('allows an app to use shared libraries', async () => {
    expect(
      await violations(eslint, 'apps/soul/src/adapters/probe.ts', `import { openDatabase } from '@jamey/data';\nexport const y = openDatabase;\n`),
    ).toEqual([]);
  });
});
