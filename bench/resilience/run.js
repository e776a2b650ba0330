// `node bench/resilience/run.js` (or `npm run bench -w @jamey/bench-resilience`), after a build.
// Measures per-call cost on the success and failure paths, sequential and 64 in flight, one fresh
// process per cell, and prints ns/call with ratios against cockatiel. Figures only: no assertions.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, '..', 'results', 'resilience.json');
const CELL_TIMEOUT_MS = 15_000;

/** Rows: [implementation, what it is compared with at cockatiel (its ratio column)]. */
const ROWS = [
  ['bare', undefined, 'bare await fn()'],
  ['AbortSignal.timeout', 'cockatiel:timeout', 'AbortSignal.timeout(1 s) per call'],
  ['ours:breaker', 'cockatiel:breaker', 'ours: breaker'],
  ['cockatiel:breaker', 'cockatiel:breaker', 'cockatiel: breaker'],
  ['opossum:breaker', 'cockatiel:breaker', 'opossum: breaker'],
  ['ours:retry', 'cockatiel:retry', 'ours: retry'],
  ['cockatiel:retry', 'cockatiel:retry', 'cockatiel: retry'],
  ['ours:timeout', 'cockatiel:timeout', 'ours: timeout'],
  ['cockatiel:timeout', 'cockatiel:timeout', 'cockatiel: timeout'],
  ['ours:composition', 'cockatiel:composition', 'ours: retry+breaker+timeout'],
  ['ours:composition+signal', 'cockatiel:composition', '  … fn reads ctx.signal'],
  ['cockatiel:composition', 'cockatiel:composition', 'cockatiel: retry+breaker+timeout'],
  ['opossum:composition', 'cockatiel:composition', 'opossum: breaker+timeout'],
];
const CELLS = [
  ['success', 1],
  ['success', 64],
  ['failure', 1],
  ['failure', 64],
];

async function measure(impl, path, inFlight) {
  try {
    const { stdout } = await run(process.execPath, [join(HERE, 'scenario.js'), impl, path, String(inFlight)], {
      cwd: HERE,
      timeout: CELL_TIMEOUT_MS,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)).nsPerCall;
  } catch (error) {
    process.stderr.write(`${impl} ${path} ×${inFlight}: ${error.killed ? 'timed out' : error.message}\n`);
    return NaN;
  }
}

async function version(name) {
  for (const root of [join(HERE, 'node_modules'), join(HERE, '..', '..', 'node_modules')]) {
    const text = await readFile(join(root, name, 'package.json'), 'utf8').catch(() => undefined);
    if (text !== undefined) return JSON.parse(text).version;
  }
  return 'not installed';
}

/** The comparison libraries this package's devDependencies install; a missing one's rows print "—". */
const missing = ['cockatiel', 'opossum'].filter((name) => {
  try {
    import.meta.resolve(name);
    return false;
  } catch {
    return true;
  }
});
for (const name of missing) console.error(`${name} is not installed: bench/* must be an npm workspace (npm install at the root).`);

const started = performance.now();
const results = {};
for (const [impl] of ROWS) {
  results[impl] = {};
  const skip = missing.includes(impl.split(':')[0]);
  for (const [path, inFlight] of CELLS) results[impl][`${path}/${inFlight}`] = skip ? NaN : await measure(impl, path, inFlight);
}

const cellKeys = CELLS.map(([path, inFlight]) => `${path}/${inFlight}`);
const ns = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—');
const ratio = (theirs, ours) => (Number.isFinite(theirs) && Number.isFinite(ours) ? `${(theirs / ours).toFixed(1)}×` : '—');
const header = ['implementation', ...cellKeys.map((k) => `ns ${k.replace('/', ' ×')}`), ...cellKeys.map((k) => `vs cockatiel ${k.replace('/', ' ×')}`)];
const lines = ROWS.map(([impl, against, label]) => [
  label,
  ...cellKeys.map((key) => ns(results[impl][key])),
  ...cellKeys.map((key) => (against === undefined ? '' : ratio(results[against][key], results[impl][key]))),
]);
const widths = header.map((_, i) => Math.max(header[i].length, ...lines.map((line) => line[i].length)));
const format = (line) => line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');

console.log(`@jamey/resilience per-call cost — Node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}`);
console.log(`cockatiel ${await version('cockatiel')}, opossum ${await version('opossum')}; one fresh process per cell, median of 5 rounds`);
console.log('"vs cockatiel" is cockatiel’s ns/call divided by this row’s for the same kind of policy: above 1× is cheaper.');
console.log('');
console.log(format(header));
for (const line of lines) console.log(format(line));
const bare = results.bare['success/1'];
const ours = results['ours:composition']['success/1'];
const theirs = results['cockatiel:composition']['success/1'];
console.log('');
console.log(
  `success path, sequential: our composition ${ns(ours)} ns/call (${ns(ours - bare)} over a bare await), ` +
    `cockatiel's ${ns(theirs)} ns/call: ${ratio(theirs, ours)} cheaper (target ≥ 10×).`,
);
console.log(`finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
await mkdir(dirname(RESULTS), { recursive: true });
await writeFile(RESULTS, `${JSON.stringify({ node: process.version, at: new Date().toISOString(), results }, null, 2)}\n`);
