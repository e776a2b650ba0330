import { ConfigError } from '@jamey/config';
import { describe, expect, it } from 'vitest';
import { loadTelemetryConfig } from './config.js';

describe('loadTelemetryConfig', () => {
  it('defaults every target to the local default ports', () => {
    const config = loadTelemetryConfig({});
    expect(config.service).toMatchObject({ name: 'telemetry', port: 50055, adminPort: 9105 });
    expect(config.targets).toEqual({
      grpc: { memory: '127.0.0.1:50051', consciousness: '127.0.0.1:50052', soul: '127.0.0.1:50053', audit: '127.0.0.1:50054' },
      gatewayAdminUrl: 'http://127.0.0.1:9100',
    });
    expect([config.pollIntervalMs, config.checkTimeoutMs, config.historyRetentionMs]).toEqual([5000, 2000, 604_800_000]);
  });

  it('reads overrides and rejects bad values all at once', () => {
    const config = loadTelemetryConfig({ MEMORY_ADDRESS: 'memory:50051', GATEWAY_ADMIN_URL: 'http://gateway:9100', TELEMETRY_POLL_INTERVAL_MS: '250' });
    expect(config.targets.grpc.memory).toBe('memory:50051');
    expect(config.targets.gatewayAdminUrl).toBe('http://gateway:9100');
    expect(config.pollIntervalMs).toBe(250);
    try {
      loadTelemetryConfig({ SOUL_ADDRESS: 'soul', GATEWAY_ADMIN_URL: 'ftp://gateway', TELEMETRY_POLL_INTERVAL_MS: '0' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual([
        'GATEWAY_ADMIN_URL',
        'SOUL_ADDRESS',
        'TELEMETRY_POLL_INTERVAL_MS',
      ]);
    }
  });
});
