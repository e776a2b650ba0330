import { Client, credentials, Metadata, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import type { Clock } from '@jamey/core';
import { METHODS } from '@jamey/proto';
import { SERVICE_TOKEN_METADATA_KEY } from '@jamey/security';
import type { EdgePolicies } from './edge-policy.js';
import { clientStatusName, notifySafely, type RpcClientCallObserver } from './observe.js';
import { fromGrpcError, type ErrorLogger } from './status.js';

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
  /** The end user the call is made for: carried in the service token (`sub`). */
  readonly userSubject?: string;
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
  /**
   * The edge's resilience policies (`createEdgePolicies`). Idempotent methods (by their
   * `idempotency_level`) run through `policies.idempotent`, all others through `policies.other`.
   * Without them every call is a single attempt.
   */
  readonly policies?: EdgePolicies;
  /**
   * Told about every logical call when it settles (retries included, so its duration is what
   * the caller waited): the dependency, full method path and final status name. Failures made
   * by the policies count with their status: an open breaker as UNAVAILABLE, a timeout as
   * DEADLINE_EXCEEDED, a full bulkhead as RESOURCE_EXHAUSTED. Feeds
   * `rpc_client_call_duration_seconds`.
   */
  readonly observer?: RpcClientCallObserver;
  /** Where an observer's own failure is logged. */
  readonly logger?: ErrorLogger;
  /**
   * Gives the service token for a call (`(sub) => minter.mint(dependency, sub)`), sent in
   * metadata `x-jamey-service-token` on every attempt. The minter caches tokens, so most
   * attempts do not sign. Without it calls carry no token and a service refuses them.
   */
  readonly serviceToken?: (userSubject?: string) => Promise<string>;
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
    // Reconnect soon after a callee comes back, so the breaker's trial call can succeed;
    // grpc-js would otherwise back off for up to two minutes.
    'grpc.initial_reconnect_backoff_ms': 250,
    'grpc.max_reconnect_backoff_ms': 5_000,
  });
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 5000;
  const methods: Record<string, unknown> = { close: () => client.close() };
  // One attempt on the wire: carries the deadline and the signal, translates the failure.
  const attempt = (
    method: ServiceDefinition[string],
    request: unknown,
    deadline: number,
    signal: AbortSignal | undefined,
    metadataValues: Readonly<Record<string, string>> | undefined,
    userSubject: string | undefined,
  ): Promise<unknown> =>
    options.serviceToken === undefined
      ? send(method, request, deadline, signal, metadataValues, undefined)
      : options.serviceToken(userSubject).then((token) => send(method, request, deadline, signal, metadataValues, token));
  const send = (
    method: ServiceDefinition[string],
    request: unknown,
    deadline: number,
    signal: AbortSignal | undefined,
    metadataValues: Readonly<Record<string, string>> | undefined,
    token: string | undefined,
  ): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const metadata = new Metadata();
      for (const [name, value] of Object.entries(metadataValues ?? {})) metadata.set(name, value);
      if (token !== undefined) metadata.set(SERVICE_TOKEN_METADATA_KEY, token);
      const call = client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadata,
        { deadline },
        (error: ServiceError | null, response?: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          // A call the caller abandoned is the caller's doing, not the dependency's failure.
          if (error && signal?.aborted) reject(signal.reason);
          else if (error) reject(fromGrpcError(error, options.dependency));
          else resolve(response);
        },
      );
      const onAbort = (): void => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  for (const [key, method] of Object.entries(definition)) {
    const idempotent = (METHODS as Record<string, { idempotency: string } | undefined>)[method.path]?.idempotency !== 'IDEMPOTENCY_UNKNOWN';
    const policy = options.policies === undefined ? undefined : idempotent ? options.policies.idempotent : options.policies.other;
    const call = (request: unknown, callOptions: RpcCallOptions, deadline: number): Promise<unknown> => {
      if (policy === undefined) return attempt(method, request, deadline, callOptions.signal, callOptions.metadata, callOptions.userSubject);
      return policy.execute(
        // The policy tightens the deadline per attempt and aborts its signal on timeout.
        (context) => attempt(method, request, Math.min(deadline, context.deadline), context.signal, callOptions.metadata, callOptions.userSubject),
        callOptions.signal === undefined ? { deadline } : { deadline, signal: callOptions.signal },
      );
    };
    methods[key] = (request: unknown, callOptions: RpcCallOptions = {}) => {
      const started = options.clock.now();
      const fallback = started + defaultTimeoutMs;
      const deadline = callOptions.deadline === undefined ? fallback : Math.min(callOptions.deadline, fallback);
      const pending = call(request, callOptions, deadline);
      const { observer } = options;
      if (observer === undefined) return pending;
      const record = (code: string): void =>
        notifySafely(observer, { dependency: options.dependency, method: method.path, code, durationMs: options.clock.now() - started }, options.logger);
      return pending.then(
        (response) => {
          record('OK');
          return response;
        },
        (error: unknown) => {
          record(clientStatusName(error, callOptions.signal));
          throw error;
        },
      );
    };
  }
  return methods as PromiseClient<D>;
}
