// One scenario in a fresh process: `node scenario.js <impl> <success|failure> <inFlight>`.
// Prints `{"nsPerCall": …}`: the median of timed rounds after a warm-up.
import { build } from './scenarios.js';

const [impl, path, inFlightArg] = process.argv.slice(2);
const inFlight = Number(inFlightArg);
const WARMUP_MS = 150;
const ROUNDS = 5;
const ROUND_MS = 50;

const { call, close } = await build(impl, path);

async function sequential(count) {
  if (path === 'success') {
    for (let i = 0; i < count; i++) await call();
  } else {
    for (let i = 0; i < count; i++) {
      try {
        await call();
      } catch {
        // expected on the failure path
      }
    }
  }
}

/** Runs about `count` calls, `inFlight` at a time; returns ns per call. */
async function timed(count) {
  const share = Math.max(1, Math.ceil(count / inFlight));
  const start = process.hrtime.bigint();
  if (inFlight === 1) await sequential(share);
  else await Promise.all(Array.from({ length: inFlight }, () => sequential(share)));
  return Number(process.hrtime.bigint() - start) / (share * inFlight);
}

// Warm up until the JIT settles, sizing the rounds from the warm speed.
const warmupEnd = performance.now() + WARMUP_MS;
let estimate = Infinity;
while (performance.now() < warmupEnd) estimate = await timed(1_024);
const perRound = Math.max(1_024, Math.min(4_000_000, Math.round((ROUND_MS * 1e6) / estimate)));
const samples = [];
for (let round = 0; round < ROUNDS; round++) samples.push(await timed(perRound));
samples.sort((a, b) => a - b);
await close?.();
console.log(JSON.stringify({ impl, path, inFlight, nsPerCall: samples[ROUNDS >> 1], callsPerRound: perRound }));
