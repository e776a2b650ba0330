/** docs/errors.md lists every problem type the gateway can return, with its status. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBLEM_CODES, problemType, type ProblemCode } from './problem.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  it.each(Object.keys(PROBLEM_CODES) as ProblemCode[])('documents %s with its type and status', (code) => {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${problemType(code)}\` |`));
    expect(row, `no row for ${problemType(code)}`).toBeDefined();
    expect(row).toContain(`| ${PROBLEM_CODES[code].http} | \`${code}\` |`);
  });

  it('documents no type the gateway does not have', () => {
    const documented = [...doc.matchAll(/^\| `(https:\/\/jamey\.io\/problems\/[a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual((Object.keys(PROBLEM_CODES) as ProblemCode[]).map(problemType).sort());
  });
});
