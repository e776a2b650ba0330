import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createManualClock, createSeededRandom } from '@jamey/core';
import { migrate, openDatabase, type Database } from '@jamey/data';
import { describeOnEachDatabase, type TestDatabase } from '@jamey/data/testing';
import { createLogger } from '@jamey/telemetry';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { telemetryMigrationsDir } from '../../migrations.js';
import { createWebhookNotifier, isRetryableDelivery, WebhookHttpError } from './webhook-notifier.js';

const logger = createLogger({ service: 'webhook-test', level: 'silent' });

/** A real HTTP receiver that answers with the next status of `script` (then 204), recording bodies. */
async function receiver(script: number[]): Promise<{ url: string; bodies: unknown[]; close: () => Promise<void> }> {
  const bodies: unknown[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(script.shift() ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

describeOnEachDatabase('alert webhook delivery', 'TELEMETRY_DATABASE_URL', (createDatabase) => {
  let test: TestDatabase;
  let db: Database;
  const closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    test = await createDatabase();
    db = await openDatabase({ url: test.url, poolSize: 2 });
    await migrate(db, { dir: telemetryMigrationsDir, table: 'telemetry_migrations' });
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
    await db.query('DELETE FROM alert_notifications');
  });
  afterAll(async () => {
    await db?.close();
    await test?.cleanup();
  });

  const queue = async (n: number, at: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await db.query(`INSERT INTO alert_notifications (fingerprint, transition, payload, next_attempt_at, created_at) VALUES ($1, 'fired', $2::jsonb, $3, $3)`, [`f${i}`, JSON.stringify({ n: i }), new Date(at).toISOString()]);
    }
  };
  const rows = async () => (await db.query<{ attempts: number; last_error: string; gave_up_at: Date | null }>('SELECT attempts, last_error, gave_up_at FROM alert_notifications ORDER BY id')).rows;

  it('retries transient failures with backoff within a round and deletes what it delivered', async () => {
    const hook = await receiver([503, 500]);
    closers.push(hook.close);
    const clock = createManualClock();
    await queue(2, clock.now());
    const notifier = createWebhookNotifier({ url: hook.url, db, clock, random: createSeededRandom(3), logger, attemptsPerRound: 3 });
    expect(await notifier.drainOnce()).toBe(2);
    expect(hook.bodies).toEqual([{ n: 0 }, { n: 0 }, { n: 0 }, { n: 1 }]);
    expect(await rows()).toEqual([]);
  });

  it('keeps a failed notification for a later round, gives up on a permanent refusal, and is not blocked by either', async () => {
    const hook = await receiver([500, 500, 400]);
    closers.push(hook.close);
    const clock = createManualClock();
    await queue(2, clock.now());
    const notifier = createWebhookNotifier({ url: hook.url, db, clock, random: createSeededRandom(4), logger, attemptsPerRound: 2 });
    expect(await notifier.drainOnce()).toBe(0);
    const [first, second] = await rows();
    expect(first).toMatchObject({ attempts: 1, last_error: 'webhook answered HTTP 500', gave_up_at: null });
    expect(second).toMatchObject({ attempts: 1, last_error: 'webhook answered HTTP 400' });
    expect(second!.gave_up_at).not.toBeNull();
    // Not due yet: nothing is sent.
    expect(await notifier.drainOnce()).toBe(0);
    expect(hook.bodies).toHaveLength(3);
    clock.advance(5_000);
    expect(await notifier.drainOnce()).toBe(1);
    expect(await rows()).toHaveLength(1); // the given-up one stays for inspection
  });

  it('opens its breaker on an unreachable receiver and stops the round early', async () => {
    const hook = await receiver([]);
    await hook.close(); // nothing listens there now
    const clock = createManualClock();
    await queue(8, clock.now());
    const notifier = createWebhookNotifier({ url: hook.url, db, clock, random: createSeededRandom(5), logger, attemptsPerRound: 1 });
    expect(await notifier.drainOnce()).toBe(0);
    expect(notifier.policies.breaker.state).toBe('open');
    const after = await rows();
    // Five refused connections open the breaker; the sixth fails fast and the rest wait.
    expect(after.filter((r) => r.attempts === 1).length).toBe(6);
    expect(after.every((r) => r.gave_up_at === null)).toBe(true);
  });

  it('classifies delivery errors', () => {
    expect(isRetryableDelivery(new WebhookHttpError(503))).toBe(true);
    expect(isRetryableDelivery(new WebhookHttpError(429))).toBe(true);
    expect(isRetryableDelivery(new WebhookHttpError(404))).toBe(false);
    expect(isRetryableDelivery(Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }))).toBe(true);
  });
});
