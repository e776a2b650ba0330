import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

interface Sample {
  label: string;
  calls: number;
  heapUsed: number;
  listeners: number;
  liveTimers: number;
  refTimers: number;
  pending: number;
  active: number;
  queued: number;
}

interface Report {
  samples: [Sample, Sample];
  succeeded: number;
  maxListeners: number;
  breakerState: string;
  elapsedMs: number;
}

const LIB_ROOT = fileURLToPath(new URL('..', import.meta.url));

let running: ChildProcess | undefined;

// Only after a failed or timed-out test: a passing run never kills its child.
afterEach(() => {
  if (running !== undefined && running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
  running = undefined;
});

/** Runs test/leak-child.mjs in a fresh Node process and resolves when it exits by itself. */
function runChild(): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--conditions=@jamey/source', '--import', './test/register-ts.mjs', 'test/leak-child.mjs'],
      { cwd: LIB_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    // Nothing here kills the child: if it cannot exit by itself, the test times out (see afterEach).
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('leaks', () => {
  it(
    '1,000,000 calls through the composition on one long-lived signal: no listener, heap or timer growth, and the process exits by itself',
    async () => {
      const { code, signal, stdout, stderr } = await runChild();
      expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
      const report = JSON.parse(stdout) as Report;
      const [baseline, end] = report.samples;
      expect(report.succeeded).toBe(1_000_000);
      expect(report.breakerState).toBe('closed');
      // While running, only calls in flight listen; afterwards none.
      expect(report.maxListeners).toBeLessThanOrEqual(16);
      expect(end.listeners).toBe(0);
      // At most the timeout's one armed timer, which is unreferenced.
      expect(end.liveTimers).toBeLessThanOrEqual(Math.max(1, baseline.liveTimers));
      expect(end.refTimers).toBe(0);
      expect([end.pending, end.active, end.queued]).toEqual([0, 0, 0]);
      // 900,000 calls after the baseline: even 3 bytes kept per call would exceed this.
      expect(end.heapUsed - baseline.heapUsed).toBeLessThan(2 * 1024 * 1024);
    },
    60_000,
  );
});
