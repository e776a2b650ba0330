import { describe, expect, it } from 'vitest';
import { audit, consciousness, memory, METHODS, soul, telemetry } from './index.js';

describe('METHODS', () => {
  it('lists exactly the methods of every generated service definition', () => {
    const definitions = [
      memory.MemoryServiceService,
      soul.SoulServiceService,
      consciousness.ConsciousnessServiceService,
      audit.AuditServiceService,
      telemetry.TelemetryServiceService,
    ];
    const paths = definitions.flatMap((definition) => Object.values(definition).map((method) => method.path)).sort();
    expect(Object.keys(METHODS).sort()).toEqual(paths);
  });

  it('carries the idempotency_level declared in the protos', () => {
    expect(METHODS['/jamey.memory.v1.MemoryService/GetMemory'].idempotency).toBe('NO_SIDE_EFFECTS');
    expect(METHODS['/jamey.memory.v1.MemoryService/DeleteMemory'].idempotency).toBe('IDEMPOTENT');
    expect(METHODS['/jamey.memory.v1.MemoryService/StoreMemory'].idempotency).toBe('IDEMPOTENCY_UNKNOWN');
  });
});
