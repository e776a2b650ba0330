import { describe, expect, it } from 'vitest';
import { loadHostConfig } from './config.js';

describe('loadHostConfig', () => {
  it('keeps embedded mode free of Redis even when REDIS_URL is set', () => {
    const config = loadHostConfig({ REDIS_URL: 'redis://127.0.0.1:56379' });
    for (const settings of Object.values(config.services)) expect(settings.redisUrl).toBeUndefined();
    expect(config.gateway.redisUrl).toBeUndefined();
  });
});
