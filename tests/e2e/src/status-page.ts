import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@jamey/data/testing';
import { chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { REPO_ROOT } from './processes.js';
import type { JameySystem } from './system.js';

/** Debian's `chromium` (`apt-get install chromium`; .ci/run installs it), or `CHROMIUM_PATH`. */
export const CHROMIUM_PATH: string | undefined =
  process.env['CHROMIUM_PATH'] || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

/** Every service the status page lists. */
const SERVICES = ['gateway', 'memory', 'consciousness', 'soul', 'audit', 'telemetry'];

/** The alert rule (apps/telemetry/alert-rules.yaml) that fires for a service that is down; `for: 1m`. */
const NOT_READY_RULE = 'JameyServiceNotReady';

/** Where screenshots go: `.ci/results/` in CI, the temporary folder otherwise. */
function screenshotPath(name: string): string {
  const dir = process.env['CI'] === 'true' ? join(REPO_ROOT, '.ci', 'results') : tmpdir();
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** Waits until the page's row of `service` shows `status` (SERVING, DEGRADED or DOWN). */
async function rowStatus(page: Page, service: string, status: string, timeoutMs: number): Promise<void> {
  await page.locator(`#services tr[data-service="${service}"][data-status="${status}"]`).waitFor({ timeout: timeoutMs });
}

/**
 * Waits until every service's row says SERVING. With locators, not `waitForFunction`: a string
 * predicate that has to poll is evaluated with `eval`, which the page's CSP (no 'unsafe-eval')
 * refuses.
 */
async function allServing(page: Page, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const name of SERVICES) {
    await page.locator(`#services tr[data-service="${name}"][data-status="SERVING"]`).waitFor({ timeout: Math.max(1, deadline - Date.now()) });
  }
}

/**
 * Opens the status page in headless Chromium through the gateway's `/status` link, sees every
 * service healthy, SIGKILLs memory, sees its row turn red (and say so in words) live over SSE
 * and the not-ready alert fire, saves a screenshot, restarts memory and sees it healthy again
 * and the alert gone. Real mode only: it kills one service's process.
 */
export async function runStatusPage(system: JameySystem, executablePath: string): Promise<void> {
  const browser = await chromium.launch({ executablePath });
  const problems: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    try {
      const response = await page.goto(`${system.gatewayUrl}/status`);
      expect(response?.status()).toBe(200);
      expect(page.url()).toBe(system.statusUrl);
      await page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 });
      // The first polling rounds may still be in flight right after start-up.
      await allServing(page, 60_000);
      expect(await page.locator('#overall').getAttribute('data-status')).toBe('SERVING');
      const notReady = page.locator(`#alerts li[data-rule="${NOT_READY_RULE}"][data-service="memory"]`);
      // An earlier test may have left it firing until its next round.
      await notReady.waitFor({ state: 'detached', timeout: 30_000 });

      await system.killService('memory');
      await rowStatus(page, 'memory', 'DOWN', 30_000);
      const memory = page.locator('#services tr[data-service="memory"]');
      expect(await memory.locator('.badge').textContent()).toBe('✕ Down');
      expect(await memory.locator('td.detail').textContent()).not.toBe('');
      expect(await page.locator('#overall').getAttribute('data-status')).toBe('DEGRADED');
      expect(await page.locator('#overall').textContent()).toContain('memory');
      // The rule must hold for a minute before it fires, then the next round pushes it.
      await notReady.waitFor({ timeout: 150_000 });
      expect(await notReady.getAttribute('data-severity')).toBe('critical');
      expect(await notReady.textContent()).toContain('memory is not ready');
      expect(await page.locator('#alerts-empty').isVisible()).toBe(false);

      const screenshot = screenshotPath('status-page.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      console.info(`status page screenshot (memory killed): ${screenshot}`);

      await system.restartService('memory');
      await rowStatus(page, 'memory', 'SERVING', 60_000);
      await allServing(page, 60_000);
      await notReady.waitFor({ state: 'detached', timeout: 60_000 });
    } catch (error) {
      const screenshot = screenshotPath('status-page-failure.png');
      await page.screenshot({ path: screenshot, fullPage: true }).catch(() => undefined);
      console.error(`status page at failure: ${screenshot}`);
      throw error;
    }
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
  }
}

/**
 * Without a browser, in any mode: the gateway's `/status` redirects to the status page, which
 * is served, and whose JSON snapshot soon shows every service serving.
 */
export async function runStatusSnapshot(system: JameySystem): Promise<void> {
  const link = await fetch(`${system.gatewayUrl}/status`, { redirect: 'manual' });
  expect(link.status).toBe(302);
  expect(link.headers.get('location')).toBe(system.statusUrl);
  const page = await fetch(system.statusUrl);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  let last = '';
  await waitFor(
    async () => {
      const body = (await (await fetch(new URL('api/status', system.statusUrl))).json()) as { services: { service: string; status: string }[] };
      last = JSON.stringify(body.services.map((s) => [s.service, s.status]));
      return SERVICES.every((name) => body.services.some((s) => s.service === name && s.status === 'SERVING'));
    },
    { timeoutMs: 60_000, intervalMs: 500, message: 'every service to be SERVING on the status page' },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last seen ${last}`);
  });
}
