import { describe, expect, it } from 'vitest';
import { ConfigError, csv, databaseUrl, flag, loadConfig, port, redisUrl, z } from './index.js';

const schema = z.object({
  PORT: port(8080),
  BROKERS: csv().optional(),
  DB: databaseUrl().default('pglite://memory'),
  DEBUG: flag(false),
});

describe('loadConfig', () => {
  it('applies defaults and freezes the result', () => {
    const config = loadConfig(schema, {});
    expect(config).toEqual({ PORT: 8080, DB: 'pglite://memory', DEBUG: false });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses values, treating empty strings as unset', () => {
    const config = loadConfig(schema, { PORT: '9000', BROKERS: 'a:1, b:2,', DB: '', DEBUG: 'yes' });
    expect(config).toEqual({ PORT: 9000, BROKERS: ['a:1', 'b:2'], DB: 'pglite://memory', DEBUG: true });
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: '70000', DB: 'mysql://x', DEBUG: 'maybe' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/DB/);
    expect(problems.join('\n')).toMatch(/DEBUG/);
  });
});

describe('redisUrl', () => {
  const redis = z.object({ REDIS_URL: redisUrl().optional() });

  it('accepts redis:// and rediss:// URLs with credentials and a database number', () => {
    for (const url of ['redis://127.0.0.1:56379', 'redis://cache', 'rediss://user:secret@cache.example:6380/2', 'redis://h:1/']) {
      expect(loadConfig(redis, { REDIS_URL: url })).toEqual({ REDIS_URL: url });
    }
  });

  it('rejects anything else, naming the variable', () => {
    for (const url of ['127.0.0.1:6379', 'http://cache:6379', 'redis://', 'redis://h:1/db', 'not a url']) {
      expect(() => loadConfig(redis, { REDIS_URL: url }), url).toThrow(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
    }
  });
});
