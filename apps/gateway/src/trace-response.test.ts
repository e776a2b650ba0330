import { afterAll, describe, expect, it } from 'vitest';
import { createTestGateway } from './testing/test-gateway.js';

const addresses = { memory: '127.0.0.1:1', consciousness: '127.0.0.1:1', soul: '127.0.0.1:1', audit: '127.0.0.1:1', telemetry: '127.0.0.1:1' };

describe('traceresponse header', () => {
  const gateway = createTestGateway({ addresses });
  // With tracing on, the header carries the request's trace: tests/e2e/src/tracing.test.ts
  // checks that against the real system (inject() does not keep the async context).
  afterAll(() => gateway.close());

  it('is absent when the request is not traced', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['traceresponse']).toBeUndefined();
  });
});
