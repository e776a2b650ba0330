import {
  Server,
  ServerCredentials,
  type handleUnaryCall,
  type Metadata,
  type ServiceDefinition,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { descriptorSetBase64 } from '@jamey/proto';
import { toGrpcStatus, type ErrorLogger } from './status.js';

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** Full method path, for example `/jamey.memory.v1.MemoryService/GetMemory`. */
  readonly method: string;
  readonly metadata: Metadata;
  /** Aborted when the client cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /** The caller's deadline in epoch milliseconds; undefined when the caller set none. */
  readonly deadline: number | undefined;
}

/** An async unary handler. Throwing a JameyError returns its status; anything else is UNKNOWN. */
export type UnaryHandler<Req, Res> = (request: Req, context: CallContext) => Promise<Res>;

/** Async handlers for every method of a ts-proto generated `XServer` interface. */
export type ServiceHandlers<S> = {
  // grpc-js gives every generated server interface a string index signature; skip it.
  [K in keyof S as string extends K ? never : K]: S[K] extends handleUnaryCall<infer Req, infer Res> ? UnaryHandler<Req, Res> : never;
};

/** Options for {@link createRpcServer}. */
export interface RpcServerOptions {
  readonly logger: ErrorLogger;
  /** Max message size in bytes, both ways. Default 4 MiB. */
  readonly maxMessageBytes?: number;
}

/** A gRPC server with health and reflection, serving async handlers. */
export interface RpcServer {
  /** Registers a service. Its health status starts NOT_SERVING until {@link setServing}. */
  addService<S>(name: string, definition: ServiceDefinition, handlers: ServiceHandlers<S>): void;
  /** Binds `host:port` (0 picks a free port) and returns the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Sets the health of the whole server and every registered service. */
  setServing(serving: boolean): void;
  /** Stops accepting calls and waits for in-flight ones, up to `graceMs`; then force-closes. */
  shutdown(graceMs: number): Promise<void>;
}

const descriptorSet = Buffer.from(descriptorSetBase64, 'base64');

/** Creates a gRPC server that serves `grpc.health.v1` and server reflection. */
export function createRpcServer(options: RpcServerOptions): RpcServer {
  const maxBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  const server = new Server({
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': maxBytes,
  });
  const serviceNames: string[] = [];
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  const packages = {
    ...loadFileDescriptorSetFromBuffer(descriptorSet),
    ...loadSync(healthProtoPath),
  };
  new ReflectionService(packages).addToServer(server);

  function adapt<Req, Res>(method: string, handler: UnaryHandler<Req, Res>): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback) => {
      const controller = new AbortController();
      call.once('cancelled', () => controller.abort(new Error('call cancelled')));
      const rawDeadline = call.getDeadline();
      const deadline = rawDeadline instanceof Date ? rawDeadline.getTime() : Number.isFinite(rawDeadline) ? rawDeadline : undefined;
      const context: CallContext = { method, metadata: call.metadata, signal: controller.signal, deadline };
      handler(call.request, context).then(
        (response) => callback(null, response),
        (error: unknown) => callback(toGrpcStatus(error, options.logger)),
      );
    };
  }

  return {
    addService(name, definition, handlers) {
      const implementation: UntypedServiceImplementation = {};
      for (const [key, method] of Object.entries(definition)) {
        const handler = (handlers as Record<string, UnaryHandler<unknown, unknown> | undefined>)[key];
        if (!handler) throw new Error(`no handler for ${method.path}`);
        implementation[key] = adapt(method.path, handler);
      }
      server.addService(definition, implementation);
      serviceNames.push(name);
      health.setStatus(name, 'NOT_SERVING');
    },
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, boundPort) =>
          error ? reject(error) : resolve(boundPort),
        );
      });
    },
    setServing(serving) {
      const status = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', status);
      for (const name of serviceNames) health.setStatus(name, status);
    },
    shutdown(graceMs) {
      return new Promise((resolve) => {
        const forceClose = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(forceClose);
          resolve();
        });
      });
    },
  };
}
