import { ConfigError } from '@jamey/config';
import { describe, expect, it } from 'vitest';
import { loadAuditConfig } from './config.js';

describe('loadAuditConfig', () => {
  it('reads defaults, brokers and the replay time', () => {
    const config = loadAuditConfig({ KAFKA_BROKERS: 'a:1, b:2', AUDIT_REPLAY_FROM: '2026-01-02T03:04:05+01:00' });
    expect(config.service).toMatchObject({ name: 'audit', port: 50054, adminPort: 9104, databaseUrl: 'pglite://.data/audit' });
    expect(config.kafkaBrokers).toEqual(['a:1', 'b:2']);
    expect(config.replayFrom).toEqual(new Date(Date.UTC(2026, 0, 2, 2, 4, 5)));
    expect(loadAuditConfig({ KAFKA_BROKERS: 'a:1' }).replayFrom).toBeUndefined();
    expect(config.consumerGroup).toBe('audit');
    expect(loadAuditConfig({ KAFKA_BROKERS: 'a:1', AUDIT_CONSUMER_GROUP: 'audit-2' }).consumerGroup).toBe('audit-2');
    expect(config).toMatchObject({ treeHeadIntervalMs: 10_000, logOrigin: 'jamey.io/audit', signingKeyFile: undefined });
    expect(
      loadAuditConfig({ KAFKA_BROKERS: 'a:1', AUDIT_TREE_HEAD_INTERVAL_MS: '250', AUDIT_LOG_ORIGIN: 'example.com/log', AUDIT_SIGNING_KEY_FILE: '/run/secrets/key.pem' }),
    ).toMatchObject({ treeHeadIntervalMs: 250, logOrigin: 'example.com/log', signingKeyFile: '/run/secrets/key.pem' });
    expect(config).toMatchObject({ retentionDays: undefined, archiveIntervalMs: 3_600_000 });
    expect(loadAuditConfig({ KAFKA_BROKERS: 'a:1', AUDIT_RETENTION_DAYS: '400', AUDIT_ARCHIVE_INTERVAL_MS: '60000' })).toMatchObject({
      retentionDays: 400,
      archiveIntervalMs: 60_000,
    });
  });

  it('lists every problem at once', () => {
    try {
      loadAuditConfig({
        AUDIT_REPLAY_FROM: 'yesterday',
        AUDIT_PORT: 'x',
        AUDIT_CONSUMER_GROUP: 'no spaces',
        AUDIT_TREE_HEAD_INTERVAL_MS: '0',
        AUDIT_LOG_ORIGIN: 'has space',
        AUDIT_RETENTION_DAYS: '0',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/KAFKA_BROKERS/);
      expect(problems).toMatch(/AUDIT_REPLAY_FROM: must be an ISO 8601 time/);
      expect(problems).toMatch(/AUDIT_PORT/);
      expect(problems).toMatch(/AUDIT_CONSUMER_GROUP/);
      expect(problems).toMatch(/AUDIT_TREE_HEAD_INTERVAL_MS/);
      expect(problems).toMatch(/AUDIT_LOG_ORIGIN/);
      expect(problems).toMatch(/AUDIT_RETENTION_DAYS/);
    }
  });
});
