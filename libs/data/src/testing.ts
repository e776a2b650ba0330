/**
 * Test helpers for code that needs real infrastructure (`@jamey/data/testing`).
 * Not for production code: it reads `process.env` and imports vitest.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { openDatabase } from './open.js';

/** One required variable, or alternatives of which the first one set wins. */
export type InfraRequirement = string | readonly string[];

/** The database URL integration tests use: `JAMEY_TEST_DATABASE_URL`, else `MEMORY_DATABASE_URL`. */
export const TEST_DATABASE_URL: readonly string[] = ['JAMEY_TEST_DATABASE_URL', 'MEMORY_DATABASE_URL'];

/** The Kafka bootstrap servers variable (`host:port[,host:port…]`). */
export const KAFKA_BROKERS = 'KAFKA_BROKERS';

/** Values found for each requirement, keyed by its first name; or the requirements missing. */
export type InfraLookup =
  | { ok: true; env: Record<string, string> }
  | { ok: false; missing: string[] };

/** Looks the requirements up in `process.env`. */
export function lookupInfra(requirements: readonly InfraRequirement[]): InfraLookup {
  const env: Record<string, string> = {};
  const missing: string[] = [];
  for (const requirement of requirements) {
    const names = typeof requirement === 'string' ? [requirement] : requirement;
    const found = names.map((name) => process.env[name]).find((value) => value !== undefined && value !== '');
    if (found === undefined) missing.push(names.join(' or '));
    else env[names[0]!] = found;
  }
  return missing.length === 0 ? { ok: true, env } : { ok: false, missing };
}

/**
 * `describe` for tests that need real infrastructure. When a requirement is missing the block
 * is skipped with the reason printed, unless `JAMEY_REQUIRE_INFRA=1`, in which case it fails (CI
 * with real infrastructure must never pass by skipping). `fn` gets the values, keyed by the
 * first name of each requirement:
 *
 * ```ts
 * describeWithInfra([TEST_DATABASE_URL, KAFKA_BROKERS], 'relay', (env) => { … env.JAMEY_TEST_DATABASE_URL … });
 * ```
 */
export function describeWithInfra(
  requirements: readonly InfraRequirement[],
  name: string,
  fn: (env: Record<string, string>) => void,
): void {
  const lookup = lookupInfra(requirements);
  if (lookup.ok) {
    describe(name, () => fn(lookup.env));
    return;
  }
  const reason = `missing ${lookup.missing.join(', ')} (run: eval "$(bash scripts/infra.sh env)")`;
  if (process.env.JAMEY_REQUIRE_INFRA === '1') {
    describe(name, () => {
      it('has the infrastructure it needs', () => {
        throw new Error(`JAMEY_REQUIRE_INFRA=1 but ${reason}`);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: ${reason}`);
  describe.skip(`${name} [skipped: ${reason}]`, () => {
    it('needs real infrastructure', () => undefined);
  });
}

/**
 * Polls `predicate` until it returns true (or a truthy promise), every `intervalMs`
 * (default 25 ms), failing after `timeoutMs` (default 10 s) with `message`.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<void> {
  const { timeoutMs = 10_000, intervalMs = 25, message = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A fresh, uniquely named test identifier: `<prefix>_<hex>` (safe as a schema/topic name). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** A Postgres schema created for one test file, and a URL whose connections use it. */
export interface TestSchema {
  /** `baseUrl` with `search_path` set to the schema, then `public` (where pgvector lives). */
  url: string;
  schema: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named schema in the Postgres at `baseUrl` so concurrent test files do not
 * see each other's tables.
 */
export async function createTestSchema(baseUrl: string, prefix = 'test'): Promise<TestSchema> {
  const schema = uniqueName(prefix);
  const admin = await openDatabase({ url: baseUrl, poolSize: 1 });
  try {
    await admin.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await admin.close();
  }
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema},public`);
  return {
    url: url.toString(),
    schema,
    async drop() {
      const db = await openDatabase({ url: baseUrl, poolSize: 1 });
      try {
        await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await db.close();
      }
    },
  };
}

/** A database a suite runs against: its URL, and how to remove it afterwards. */
export interface TestDatabase {
  url: string;
  cleanup(): Promise<void>;
}

/**
 * Runs `suite` twice: on PGlite in a fresh temporary directory, and on real PostgreSQL in a
 * fresh schema of the database named by `urlVariable` (through {@link describeWithInfra}, so it
 * skips with a reason, or fails under `JAMEY_REQUIRE_INFRA=1`, when the variable is missing).
 * `suite` gets a function that creates its database when called.
 */
export function describeOnEachDatabase(
  name: string,
  urlVariable: string,
  suite: (createDatabase: () => Promise<TestDatabase>) => void,
): void {
  const prefix = name.replace(/\W+/g, '_').toLowerCase();
  describe(`${name} on PGlite`, () => {
    suite(async () => {
      const dir = await mkdtemp(join(tmpdir(), `jamey-${prefix}-`));
      return { url: `pglite://${dir}`, cleanup: () => rm(dir, { recursive: true, force: true }) };
    });
  });
  describeWithInfra([urlVariable], `${name} on PostgreSQL`, (env) => {
    suite(async () => {
      const schema = await createTestSchema(env[urlVariable]!, prefix);
      return { url: schema.url, cleanup: () => schema.drop() };
    });
  });
}
