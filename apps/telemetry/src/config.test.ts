import { ConfigError } from '@jamey/config';
import { describe, expect, it } from 'vitest';
import { loadTelemetryConfig } from './config.js';

describe('loadTelemetryConfig', () => {
  it('defaults every target to the local default ports', () => {
    const config = loadTelemetryConfig({ KAFKA_BROKERS: '127.0.0.1:9092' });
    expect(config.service).toMatchObject({ name: 'telemetry', port: 50055, adminPort: 9105 });
    expect(config.targets).toEqual({
      grpc: { memory: '127.0.0.1:50051', consciousness: '127.0.0.1:50052', soul: '127.0.0.1:50053', audit: '127.0.0.1:50054' },
      gatewayAdminUrl: 'http://127.0.0.1:9100',
      adminUrls: { memory: 'http://127.0.0.1:9101', consciousness: 'http://127.0.0.1:9102', soul: 'http://127.0.0.1:9103', audit: 'http://127.0.0.1:9104' },
    });
    expect([config.pollIntervalMs, config.checkTimeoutMs, config.historyRetentionMs]).toEqual([5000, 2000, 604_800_000]);
    expect([config.scrapeTimeoutMs, config.historyIntervalMs, config.sampleStalenessMs]).toEqual([2000, 60_000, 300_000]);
    expect(config.alerting).toEqual({ rulesFile: expect.stringMatching(/apps\/telemetry\/alert-rules\.yaml$/), webhookUrl: undefined, webhookTimeoutMs: 5000 });
  });

  it('reads overrides and rejects bad values all at once', () => {
    const config = loadTelemetryConfig({
      KAFKA_BROKERS: 'kafka:9092',
      MEMORY_ADDRESS: 'memory:50051',
      MEMORY_ADMIN_URL: 'http://memory:9101',
      GATEWAY_ADMIN_URL: 'http://gateway:9100',
      TELEMETRY_POLL_INTERVAL_MS: '250',
      TELEMETRY_ALERT_WEBHOOK_URL: 'https://hooks.example/jamey',
    });
    expect(config.targets.grpc.memory).toBe('memory:50051');
    expect(config.targets.adminUrls?.memory).toBe('http://memory:9101');
    expect(config.alerting.webhookUrl).toBe('https://hooks.example/jamey');
    expect(config.targets.gatewayAdminUrl).toBe('http://gateway:9100');
    expect(config.pollIntervalMs).toBe(250);
    try {
      loadTelemetryConfig({ SOUL_ADDRESS: 'soul', GATEWAY_ADMIN_URL: 'ftp://gateway', TELEMETRY_POLL_INTERVAL_MS: '0', TELEMETRY_ALERT_WEBHOOK_URL: 'not a url' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual([
        'GATEWAY_ADMIN_URL',
        'KAFKA_BROKERS',
        'SOUL_ADDRESS',
        'TELEMETRY_ALERT_WEBHOOK_URL',
        'TELEMETRY_POLL_INTERVAL_MS',
      ]);
    }
  });
});
