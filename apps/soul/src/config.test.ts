import { ConfigError } from '@jamey/config';
import { describe, expect, it } from 'vitest';
import { loadSoulConfig } from './config.js';

describe('loadSoulConfig', () => {
  it('defaults to the soul ports and an embedded database under JAMEY_DATA_DIR', () => {
    const config = loadSoulConfig({ KAFKA_BROKERS: 'localhost:9092', JAMEY_DATA_DIR: '/tmp/jamey' });
    expect(config.service).toMatchObject({ name: 'soul', port: 50053, adminPort: 9103, databaseUrl: 'pglite:///tmp/jamey/soul' });
    expect(config.kafkaBrokers).toEqual(['localhost:9092']);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads SOUL_* overrides', () => {
    const config = loadSoulConfig({
      KAFKA_BROKERS: 'a:1,b:2',
      SOUL_PORT: '6000',
      SOUL_DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/soul',
    });
    expect(config.service.port).toBe(6000);
    expect(config.service.databaseUrl).toBe('postgres://u:p@127.0.0.1:5432/soul');
    expect(config.kafkaBrokers).toEqual(['a:1', 'b:2']);
  });

  it('lists every invalid setting at once', () => {
    let error: unknown;
    try {
      loadSoulConfig({ SOUL_PORT: 'nope' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(/SOUL_PORT/);
    expect(String((error as Error).message)).toMatch(/KAFKA_BROKERS/);
  });
});
