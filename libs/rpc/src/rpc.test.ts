import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { JameyError, invalidArgument, isJameyError, notFound, systemClock } from '@jamey/core';
import { memory as pb } from '@jamey/proto';
import { checkHealth, createRpcClient, createRpcServer, type CallContext, type RpcServer } from './index.js';
import { listReflectedServices } from './testing.js';

const silent = { error: () => undefined };
const logged: unknown[] = [];
const recordingLogger = { error: (object: object) => void logged.push(object) };

describe('rpc server and client over real gRPC', () => {
  let server: RpcServer;
  let address: string;
  let seen: CallContext | undefined;

  beforeAll(async () => {
    server = createRpcServer({ logger: recordingLogger });
    server.addService<pb.MemoryServiceServer>('jamey.memory.v1.MemoryService', pb.MemoryServiceService, {
      async storeMemory(request, context) {
        seen = context;
        if (request.content === 'invalid') throw invalidArgument('content', 'content is invalid');
        if (request.content === 'boom') throw new Error('database password is hunter2');
        if (request.content === 'slow') {
          await new Promise((_, reject) => context.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        }
        return { memory: { id: 'm1', content: request.content, layer: 3, tags: [], importance: 0.5, createTime: new Date(0) } };
      },
      async getMemory(request) {
        throw notFound('memory', request.id);
      },
      async searchMemories() {
        return { hits: [], page: { nextPageToken: '' } };
      },
      async deleteMemory() {
        return {};
      },
    });
    address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  });

  afterAll(async () => {
    await server.shutdown(1000);
  });

  it('reports NOT_SERVING until told otherwise, per service and for the server', async () => {
    expect((await checkHealth(address, '', 1000)).status).toBe('NOT_SERVING');
    server.setServing(true);
    expect((await checkHealth(address, '', 1000)).status).toBe('SERVING');
    expect((await checkHealth(address, 'jamey.memory.v1.MemoryService', 1000)).status).toBe('SERVING');
    expect((await checkHealth(address, 'no.such.Service', 1000)).status).toBe('SERVICE_UNKNOWN');
  });

  it('reports an address with nothing listening as UNREACHABLE', async () => {
    const probe = createRpcServer({ logger: silent });
    const port = await probe.listen('127.0.0.1', 0);
    await probe.shutdown(0);
    expect((await checkHealth(`127.0.0.1:${port}`, '', 500)).status).toBe('UNREACHABLE');
  });

  it('serves async handlers and propagates the caller deadline', async () => {
    const client = createRpcClient(pb.MemoryServiceService, { dependency: 'memory', address, clock: systemClock });
    const deadline = Date.now() + 3000;
    const response = await client.storeMemory({ content: 'hello', layer: 3, tags: [] }, { deadline });
    expect(response.memory?.content).toBe('hello');
    expect(seen?.deadline).toBeDefined();
    // grpc-timeout travels as a whole number of milliseconds from the send time, so the
    // server's reconstruction may land a millisecond or two past the caller's deadline.
    expect(seen!.deadline!).toBeLessThanOrEqual(deadline + 5);
    expect(seen!.deadline!).toBeGreaterThan(deadline - 1000);
    client.close();
  });

  it('never gives a call more than the default budget', async () => {
    const client = createRpcClient(pb.MemoryServiceService, { dependency: 'memory', address, clock: systemClock, defaultTimeoutMs: 500 });
    const before = Date.now();
    await client.storeMemory({ content: 'x', layer: 3, tags: [] }, { deadline: Date.now() + 60_000 });
    expect(seen!.deadline!).toBeLessThanOrEqual(before + 600);
    client.close();
  });

  it('carries typed errors with ErrorInfo reason and field', async () => {
    const client = createRpcClient(pb.MemoryServiceService, { dependency: 'memory', address, clock: systemClock });
    const invalid = await client.storeMemory({ content: 'invalid', layer: 3, tags: [] }).catch((e: unknown) => e);
    expect(isJameyError(invalid)).toBe(true);
    expect((invalid as JameyError).code).toBe('INVALID_ARGUMENT');
    expect((invalid as JameyError).details.field).toBe('content');
    const missing = await client.getMemory({ id: 'nope' }).catch((e: unknown) => e);
    expect((missing as JameyError).code).toBe('NOT_FOUND');
    client.close();
  });

  it('hides unknown errors behind UNKNOWN with a generic message and logs them', async () => {
    const raw = new Client(address, credentials.createInsecure());
    const error = await new Promise<ServiceError>((resolve) =>
      raw.makeUnaryRequest(
        '/jamey.memory.v1.MemoryService/StoreMemory',
        (value: pb.StoreMemoryRequest) => Buffer.from(pb.StoreMemoryRequest.encode(value).finish()),
        (buffer: Buffer) => pb.StoreMemoryResponse.decode(buffer),
        { content: 'boom', layer: 3, tags: [] },
        new Metadata(),
        {},
        (err) => resolve(err as ServiceError),
      ),
    );
    raw.close();
    expect(error.code).toBe(2);
    expect(error.details).toBe('internal error');
    expect(JSON.stringify(error)).not.toContain('hunter2');
    expect(logged.some((entry) => String((entry as { err: Error }).err?.message).includes('hunter2'))).toBe(true);
  });

  it('cancels a call when the caller aborts, and the handler sees the abort', async () => {
    const client = createRpcClient(pb.MemoryServiceService, { dependency: 'memory', address, clock: systemClock });
    const controller = new AbortController();
    const pending = client.storeMemory({ content: 'slow', layer: 3, tags: [] }, { signal: controller.signal });
    await expect.poll(() => seen?.signal).toBeDefined();
    const handlerSignal = seen!.signal;
    controller.abort();
    await expect(pending).rejects.toBeDefined();
    await expect.poll(() => handlerSignal.aborted).toBe(true);
    client.close();
  });

  it('turns an unreachable callee into DEPENDENCY_UNAVAILABLE naming it', async () => {
    const probe = createRpcServer({ logger: silent });
    const port = await probe.listen('127.0.0.1', 0);
    await probe.shutdown(0);
    const client = createRpcClient(pb.MemoryServiceService, { dependency: 'memory', address: `127.0.0.1:${port}`, clock: systemClock });
    const error = (await client.getMemory({ id: 'x' }).catch((e: unknown) => e)) as JameyError;
    expect(error.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(error.details.dependency).toBe('memory');
    client.close();
  });

  it('serves reflection listing Jamey services and health', async () => {
    const names = await listReflectedServices(address);
    expect(names).toContain('jamey.memory.v1.MemoryService');
    expect(names).toContain('grpc.health.v1.Health');
  });
});
