/**
 * Test helpers for callers of Jamey gRPC services (`@jamey/rpc/testing`). Not for production
 * code: it imports vitest.
 */
import { expect } from 'vitest';
import { isJameyError, type ErrorCode } from '@jamey/core';

/** Expects `call` to fail with `code` and, when given, ErrorInfo naming `field`. */
export async function expectRpcError(call: Promise<unknown>, code: ErrorCode, field?: string): Promise<void> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isJameyError(error), `expected a ${code} error, got ${String(error)}`).toBe(true);
  if (!isJameyError(error)) return;
  expect(error.code).toBe(code);
  if (field !== undefined) expect(error.details.field).toBe(field);
}
