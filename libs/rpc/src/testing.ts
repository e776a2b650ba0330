/**
 * Test helpers for callers of Jamey gRPC services (`@jamey/rpc/testing`). Not for production
 * code: it imports vitest.
 */
import { createRequire } from 'node:module';
import { type Client, credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
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

type ReflectionStream = NodeJS.ReadWriteStream & { write: (message: unknown) => void; end: () => void };
type ReflectionClient = new (address: string, creds: unknown) => Client & { ServerReflectionInfo: () => ReflectionStream };

/** The services a server lists over gRPC server reflection (v1), asked without any token. */
export async function listReflectedServices(address: string): Promise<string[]> {
  const reflectionProto = createRequire(import.meta.url).resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const definition = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true })) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: ReflectionClient } } };
  };
  const client = new definition.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure());
  const stream = client.ServerReflectionInfo();
  try {
    const response = await new Promise<{ list_services_response?: { service: { name: string }[] } }>((resolve, reject) => {
      stream.on('data', resolve);
      stream.on('error', reject);
      stream.write({ list_services: '' });
    });
    return response.list_services_response?.service.map((s) => s.name) ?? [];
  } finally {
    stream.end();
    client.close();
  }
}
