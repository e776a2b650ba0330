// `node bench/phi/run.js` (or `npm run bench -w @jamey/bench-phi`), after a build.
// Times one Φ estimate of the workspace (docs/consciousness-phi.md) over the history consciousness
// reads (262 perceptions), for 2 to 8 sources. The baseline, measured in the same run, is turning
// that history into activity series (`workspaceActivity`), the linear part every estimate does;
// the ratio shows what the bipartition search (2^(n−1) − 1 cuts) adds on top. Figures only.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workspaceActivity, workspacePhi } from '@jamey/consciousness';

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, '..', 'results', 'phi.json');
const HISTORY = 262;
const MIN_RUN_MS = 500;

/** A seeded history: `sources` sources in random turns, each echoing another now and then. */
function history(sources, seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const perceptions = [];
  let previous = 0.5;
  for (let i = 0; i < HISTORY; i += 1) {
    const salience = next() < 0.3 ? previous : next();
    perceptions.push({ source: `source-${Math.floor(next() * sources)}`, salience });
    previous = salience;
  }
  return perceptions;
}

/** Mean milliseconds per call of `fn`, after a warm-up, over at least MIN_RUN_MS. */
function time(fn) {
  for (let i = 0; i < 20; i += 1) fn();
  let calls = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < MIN_RUN_MS) {
    fn();
    calls += 1;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return elapsed / calls;
}

const rows = [];
for (let sources = 2; sources <= 8; sources += 1) {
  const perceptions = history(sources, 1000 + sources);
  const estimate = workspacePhi(perceptions);
  const baselineMs = time(() => workspaceActivity(perceptions));
  const phiMs = time(() => workspacePhi(perceptions));
  rows.push({
    sources,
    elements: estimate.elements.length,
    bipartitions: 2 ** (estimate.elements.length - 1) - 1,
    phiBits: estimate.defined ? Number(estimate.phiBits.toFixed(4)) : null,
    baselineMs: Number(baselineMs.toFixed(4)),
    phiMs: Number(phiMs.toFixed(4)),
    ratio: Number((phiMs / baselineMs).toFixed(1)),
  });
}

console.log(`Φ estimate over ${HISTORY} perceptions (Node ${process.version})`);
console.log('sources  cuts  Φ (bits)  activity ms  Φ ms     Φ / activity');
for (const row of rows) {
  console.log(
    `${String(row.sources).padStart(7)}  ${String(row.bipartitions).padStart(4)}  ${String(row.phiBits ?? '—').padStart(8)}  ` +
      `${row.baselineMs.toFixed(4).padStart(11)}  ${row.phiMs.toFixed(3).padStart(7)}  ${String(row.ratio).padStart(8)}×`,
  );
}
await mkdir(dirname(RESULTS), { recursive: true });
await writeFile(RESULTS, `${JSON.stringify({ history: HISTORY, node: process.version, rows }, null, 2)}\n`);
