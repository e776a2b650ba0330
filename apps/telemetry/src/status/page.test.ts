import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock } from '@jamey/core';
import { describeWithInfra } from '@jamey/data/testing';
import { createLogger } from '@jamey/telemetry';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SystemHealth } from '../domain/health.js';
import { startStatusServer, type StatusServer } from './server.js';
import { createStatusSnapshots, type StatusAlert, type StatusSample } from './snapshot.js';

/** Debian's `chromium` (`apt-get install chromium`), or `CHROMIUM_PATH`. */
const CHROMIUM = process.env.CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">';
const HOSTILE_DETAIL = '</td><script>window.__pwned=2</script>';

describeWithInfra(CHROMIUM ? [] : ['CHROMIUM_PATH'], 'status page in headless Chromium', () => {
  const clock = createManualClock(Date.UTC(2026, 0, 1, 12));
  let memory: SystemHealth['services'][number]['status'] = 'SERVING';
  let alerts: StatusAlert[] = [];
  let server: StatusServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  const samples = (): StatusSample[] =>
    [0, 5, 10, 15].flatMap((s) => {
      const at = new Date(clock.now() - 60_000 + s * 1000);
      return [
        { metric: 'request_rate' as const, service: 'memory', at, value: 10 + s },
        { metric: 'request_rate' as const, service: HOSTILE_NAME, at, value: 1 },
        { metric: 'error_rate' as const, service: 'memory', at, value: 0.05 },
        { metric: 'p99_latency' as const, service: 'memory', at, value: 0.0123 },
        { metric: 'phi' as const, service: 'consciousness', at, value: 0.4 + s / 100 },
      ];
    });

  beforeAll(async () => {
    const snapshots = createStatusSnapshots({
      clock,
      sources: {
        health: async () => ({
          status: memory === 'SERVING' ? 'SERVING' : 'DEGRADED',
          checkedAt: new Date(clock.now()),
          services: [
            { service: 'memory', target: '127.0.0.1:1', status: memory, detail: memory === 'SERVING' ? '' : 'connection refused', latencyMs: 2, checkedAt: new Date(clock.now()) },
            { service: HOSTILE_NAME, target: 'x', status: 'DEGRADED', detail: HOSTILE_DETAIL, latencyMs: 1, checkedAt: new Date(clock.now()) },
          ],
        }),
        dependencies: async () => new Map([['memory', [{ name: 'postgres', level: memory === 'SERVING' ? 'full' : 'offline', circuit: memory === 'SERVING' ? 'closed' : 'open' }]]]),
        alerts: async () => alerts,
        history: async () => samples(),
      },
    });
    server = await startStatusServer({ host: '127.0.0.1', port: 0, snapshot: snapshots, logger: createLogger({ service: 'status-page-test', level: 'silent' }) });
    browser = await chromium.launch({ executablePath: CHROMIUM! });
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    // Collects CSP violations (the init script is injected by the browser, outside the page's CSP).
    // Browser-side code is written as strings: this project's TypeScript has no DOM types.
    await page.addInitScript({
      content: `window.__csp = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`,
    });
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => {
      // The event stream is cut when the page closes; anything else failing is a problem.
      if (!request.url().endsWith('/api/events')) problems.push(`request failed: ${request.url()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('renders health, dependencies, alerts and four charts, escaping everything from the data', async () => {
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });
    await expect(page.title()).resolves.toBe('Jamey status');

    const memoryRow = page.locator('tr[data-service="memory"]');
    expect(await memoryRow.getAttribute('data-status')).toBe('SERVING');
    expect(await memoryRow.locator('.badge').textContent()).toBe('✓ Healthy');
    expect(await memoryRow.locator('li[data-dependency="postgres"]').textContent()).toBe('postgres: full, breaker closed');

    // Markup in the data is shown as text, and nothing it tried to inject exists or ran.
    const hostileRow = page.locator('tbody tr').nth(1);
    expect(await hostileRow.locator('th').textContent()).toBe(HOSTILE_NAME);
    expect(await hostileRow.locator('td.detail').textContent()).toBe(HOSTILE_DETAIL);
    expect(await page.locator('body img, body script').count()).toBe(0);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');

    expect(await page.locator('#alerts-empty').isVisible()).toBe(true);
    for (const id of ['requestRate', 'errorRate', 'p99Latency', 'phi']) {
      await page.locator(`#chart-${id} canvas`).first().waitFor({ timeout: 5000 });
    }
    expect(await page.locator('#chart-requestRate .latest').textContent()).toBe(`Latest: ${HOSTILE_NAME} 1 req/s; memory 25 req/s.`);
    expect(await page.locator('#chart-errorRate .latest').textContent()).toBe('Latest: memory 5 %.');
    expect(await page.locator('#chart-p99Latency .latest').textContent()).toBe('Latest: memory 12.3 ms.');
    expect(await page.locator('#chart-phi .latest').textContent()).toBe('Latest: Φ 0.55 bits.');
  });

  it('turns a service red and lists a firing alert when the next round says so', async () => {
    memory = 'DOWN';
    alerts = [{ rule: 'ServiceNotReady', service: 'memory', severity: 'critical', state: 'firing', summary: 'memory is not ready <b>now</b>', since: new Date(clock.now()) }];
    server.publish();
    await page.locator('tr[data-service="memory"][data-status="DOWN"]').waitFor({ timeout: 10_000 });
    const memoryRow = page.locator('tr[data-service="memory"]');
    expect(await memoryRow.locator('.badge').textContent()).toBe('✕ Down');
    expect(await memoryRow.locator('td.detail').textContent()).toBe('connection refused');
    expect(await memoryRow.locator('li[data-dependency="postgres"]').textContent()).toBe('postgres: offline, breaker open');
    // Red is a colour the page really shows, not just an attribute.
    const colour = await page.evaluate(`getComputedStyle(document.querySelector('tr[data-service="memory"] .badge')).color`);
    expect(colour).toBe('rgb(164, 14, 38)');

    const alert = page.locator('#alerts li[data-rule="ServiceNotReady"][data-service="memory"]');
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toContain('ServiceNotReady on memory: memory is not ready <b>now</b>');
    expect(await page.locator('#alerts b').count()).toBe(0);
    expect(await page.locator('#alerts-empty').isVisible()).toBe(false);
    expect(await page.locator('#overall').textContent()).toMatch(/^! Degraded: 2 of 2 services not serving/);

    const screenshot = join(tmpdir(), 'jamey-status-page-unit.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.info(`status page screenshot: ${screenshot}`);
  });

  it('violated no CSP rule and logged no error', async () => {
    expect(await page.evaluate('window.__csp')).toEqual([]);
    expect(problems).toEqual([]);
  });
});
