import { Client, credentials, Metadata, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import type { Clock } from '@jamey/core';
import { fromGrpcError } from './status.js';

/** Per-call options of a {@link PromiseClient} method. */
export interface RpcCallOptions {
  /**
   * The caller's own deadline in epoch milliseconds. The call never gets more time than this:
   * deadlines propagate, they are never refreshed.
   */
  readonly deadline?: number;
  /** Cancels the call. */
  readonly signal?: AbortSignal;
  /** Extra metadata, for example trace context. */
  readonly metadata?: Readonly<Record<string, string>>;
}

type MethodOf<M> = M extends {
  requestSerialize: (value: infer Req) => Buffer;
  responseDeserialize: (value: Buffer) => infer Res;
}
  ? (request: Req, options?: RpcCallOptions) => Promise<Res>
  : never;

/** A promise-returning client for a ts-proto generated service definition. */
export type PromiseClient<D> = { readonly [K in keyof D]: MethodOf<D[K]> } & {
  /** Closes the channel. */
  close(): void;
};

/** Options for {@link createRpcClient}. */
export interface RpcClientOptions {
  /** Names the callee in errors, for example `memory`. */
  readonly dependency: string;
  /** `host:port`. */
  readonly address: string;
  readonly clock: Clock;
  /** Budget for a call when the caller has no deadline of its own. Default 5000 ms. */
  readonly defaultTimeoutMs?: number;
}

/**
 * Creates a client whose methods return promises, translate failures into JameyErrors naming
 * the dependency, honour an AbortSignal, and carry the caller's deadline.
 */
export function createRpcClient<D extends ServiceDefinition>(definition: D, options: RpcClientOptions): PromiseClient<D> {
  const client = new Client(options.address, credentials.createInsecure(), {
    // Jamey's own resilience layer decides about retries; grpc-js must not multiply them.
    'grpc.enable_retries': 0,
    'grpc.keepalive_time_ms': 30_000,
  });
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 5000;
  const methods: Record<string, unknown> = { close: () => client.close() };
  for (const [key, method] of Object.entries(definition)) {
    methods[key] = (request: unknown, callOptions: RpcCallOptions = {}) =>
      new Promise((resolve, reject) => {
        const fallback = options.clock.now() + defaultTimeoutMs;
        const deadline = callOptions.deadline === undefined ? fallback : Math.min(callOptions.deadline, fallback);
        const metadata = new Metadata();
        for (const [name, value] of Object.entries(callOptions.metadata ?? {})) metadata.set(name, value);
        const signal = callOptions.signal;
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const call = client.makeUnaryRequest(
          method.path,
          method.requestSerialize,
          method.responseDeserialize,
          request,
          metadata,
          { deadline },
          (error: ServiceError | null, response?: unknown) => {
            signal?.removeEventListener('abort', onAbort);
            if (error) reject(fromGrpcError(error, options.dependency));
            else resolve(response);
          },
        );
        const onAbort = (): void => call.cancel();
        signal?.addEventListener('abort', onAbort, { once: true });
      });
  }
  return methods as PromiseClient<D>;
}
