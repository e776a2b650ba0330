export { startAuditService, auditMigrationsDir, type AuditServiceOptions } from './service.js';
export { loadAuditConfig, type AuditConfig } from './config.js';
export { AUDIT_GROUP_ID, auditTopics } from './adapters/events/audit-consumer.js';
export { loadAuditSigningKey, SigningKeyError, type AuditSigningKey } from './signing-key.js';
