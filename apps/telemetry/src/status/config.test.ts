import { describe, expect, it } from 'vitest';
import { loadTelemetryConfig } from '../config.js';

// Kafka is configured so the rest of the configuration is valid whatever telemetry requires.
const base = { KAFKA_BROKERS: '127.0.0.1:9092' };

describe('TELEMETRY_STATUS_PORT', () => {
  it('defaults to 9200', () => {
    expect(loadTelemetryConfig(base).statusPort).toBe(9200);
  });

  it('accepts 0 (a free port) and rejects a port out of range', () => {
    expect(loadTelemetryConfig({ ...base, TELEMETRY_STATUS_PORT: '0' }).statusPort).toBe(0);
    expect(() => loadTelemetryConfig({ ...base, TELEMETRY_STATUS_PORT: '70000' })).toThrow(/TELEMETRY_STATUS_PORT/);
  });
});
