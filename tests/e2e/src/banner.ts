import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { REPO_ROOT } from './processes.js';
import type { JameySystem } from './system.js';

const run = promisify(execFile);

/** The example commands the embedded host printed under "Try it", unindented. */
export function printedExample(output: string): string[] {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Try it'));
  if (start < 0) throw new Error(`the host printed no example:\n${output.slice(-2000)}`);
  const end = lines.findIndex((line, index) => index > start && line.trim() === '');
  return lines.slice(start + 1, end).map((line) => line.replace(/^ {2}/, ''));
}

/**
 * Runs the banner's example exactly as printed, in a shell at the repository root, the way a
 * developer pastes it after `npm start`: a development token, then a store and a search.
 */
export async function runBannerExample(system: JameySystem): Promise<void> {
  const commands = printedExample(system.output());
  expect(commands[0]).toMatch(/^TOKEN=\$\(.*npm run -s token -- --scopes memory:read,memory:write\)$/);
  // The host's data folder is named in the printed command itself; nothing comes from this shell.
  const env = { ...process.env };
  delete env['JAMEY_DATA_DIR'];
  const { stdout } = await run('sh', ['-c', `set -e\n${commands.join('\n')}\n`], { cwd: REPO_ROOT, env, timeout: 60_000 });
  // Two JSON bodies back to back: the stored memory, then the search that finds it.
  const [stored, found] = stdout.split(/(?<=\})(?=\{)/).map((part) => JSON.parse(part) as Record<string, unknown>);
  expect(stored, stdout).toMatchObject({ id: expect.any(String), content: 'Jamey met Ada at the lab' });
  expect((found as { items: { memory: { id: string } }[] }).items.map((item) => item.memory.id), stdout).toContain(stored!['id']);
}
