import {
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status as GrpcStatus,
  type handleUnaryCall,
  type Metadata,
  type ServerInterceptor,
  type ServiceDefinition,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { isJameyError, JameyError, systemClock, type Clock } from '@jamey/core';
import { descriptorSetBase64 } from '@jamey/proto';
import { SERVICE_TOKEN_METADATA_KEY, type ServiceTokenVerifier } from '@jamey/security';
import { createHealthService } from './health-service.js';
import { grpcStatusName, notifySafely, type RpcCallObserver } from './observe.js';
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
  /**
   * The calling service, from its verified service token; undefined only on a server created
   * without `authenticate` (tests).
   */
  readonly caller?: string;
  /** The end user the call is made for, from the verified service token; undefined for a service's own work. */
  readonly userSubject?: string;
}

/** Metadata the authentication interceptor sets after verifying a call's service token. */
export const VERIFIED_CALLER_METADATA_KEY = 'x-jamey-verified-caller';
/** The verified end user's subject, when the call is made for one. */
export const VERIFIED_USER_METADATA_KEY = 'x-jamey-verified-user';
const VERIFIED_PREFIX = 'x-jamey-verified-';

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
  /**
   * Told about every finished unary call (full method path, status name, duration): the service
   * kit turns these into `rpc_server_call_duration_seconds`. Streaming calls (health Watch,
   * reflection) are left out: they last as long as their clients.
   */
  readonly observer?: RpcCallObserver;
  /**
   * The service's readiness, evaluated on every `grpc.health.v1` Check and while Watch streams
   * are open: SERVING needs both {@link RpcServer.setServing} and readiness. Pass something
   * cached (the kit caches for one second) so health calls cannot hammer the dependencies.
   * A rejection counts as not ready. Default: always ready.
   */
  readonly readiness?: () => Promise<boolean>;
  /** How often open health Watch streams re-evaluate readiness, in ms. Default 5000. */
  readonly healthWatchRefreshMs?: number;
  /** Times calls for the observer. Default the system clock. */
  readonly clock?: Clock;
  /**
   * Verifies the service token (metadata `x-jamey-service-token`) of every call before its
   * handler runs; `grpc.health.v1` and reflection are exempt. A missing or invalid token ends
   * the call with UNAUTHENTICATED, a caller not on the allow-list with PERMISSION_DENIED.
   * Without it (tests only) calls are not authenticated.
   */
  readonly authenticate?: ServiceTokenVerifier;
  /**
   * Hears about every refused call (never the token): to log it at warn, and to keep an audit
   * record of it. Runs synchronously before the refusal is sent; must not throw (a throw is logged).
   */
  readonly onRefused?: (method: string, error: unknown, details: RefusalDetails) => void;
}

/** What the server knows about a refused call besides its method and the verifier's error. */
export interface RefusalDetails {
  /** The client's address as grpc-js reports it: `127.0.0.1:53122`, `[::1]:53122`. */
  readonly peer: string;
  /** The client's `user-agent` metadata, when sent. */
  readonly userAgent?: string;
  /** The client's W3C `traceparent` metadata, when sent (unverified; for correlation only). */
  readonly traceparent?: string;
  /**
   * The calling service, for a `caller_not_allowed` refusal only: the verifier refuses that
   * only after the token verified, so its `iss` is known to be genuine. Absent otherwise.
   */
  readonly verifiedCaller?: string;
}

/** A gRPC server with health and reflection, serving async handlers. */
export interface RpcServer {
  /** Registers a service. Its health status is NOT_SERVING until {@link setServing}, then follows readiness. */
  addService<S>(name: string, definition: ServiceDefinition, handlers: ServiceHandlers<S>): void;
  /** Binds `host:port` (0 picks a free port) and returns the bound port. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Sets the lifecycle part of the health of the whole server and every registered service:
   * false reports NOT_SERVING at once; true reports SERVING while readiness holds.
   */
  setServing(serving: boolean): void;
  /**
   * Reports NOT_SERVING and ends health Watch streams, stops accepting calls and waits for
   * in-flight ones, up to `graceMs`; then force-closes.
   */
  shutdown(graceMs: number): Promise<void>;
}

const descriptorSet = Buffer.from(descriptorSetBase64, 'base64');

/** Creates a gRPC server that serves `grpc.health.v1` and server reflection. */
export function createRpcServer(options: RpcServerOptions): RpcServer {
  const maxBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  // Metrics first, so refused calls are counted too.
  const interceptors: ServerInterceptor[] = [];
  if (options.observer) interceptors.push(metricsInterceptor(options.observer, options.clock ?? systemClock, options.logger));
  if (options.authenticate) interceptors.push(authInterceptor(options.authenticate, options.logger, options.onRefused));
  const server = new Server({
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': maxBytes,
    interceptors,
  });
  const health = createHealthService({
    logger: options.logger,
    ...(options.readiness ? { readiness: options.readiness } : {}),
    ...(options.healthWatchRefreshMs ? { watchRefreshMs: options.healthWatchRefreshMs } : {}),
  });
  health.addTo(server);
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
      const caller = verifiedValue(call.metadata, VERIFIED_CALLER_METADATA_KEY);
      const userSubject = verifiedValue(call.metadata, VERIFIED_USER_METADATA_KEY);
      const context: CallContext = {
        method,
        metadata: call.metadata,
        signal: controller.signal,
        deadline,
        ...(caller === undefined ? {} : { caller }),
        ...(userSubject === undefined ? {} : { userSubject }),
      };
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
      health.register(name);
    },
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, boundPort) =>
          error ? reject(error) : resolve(boundPort),
        );
      });
    },
    setServing(serving) {
      health.setServing(serving);
    },
    shutdown(graceMs) {
      // An open Watch stream is an in-flight call: left open, it would hold the drain to the end.
      health.closeWatches();
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

/**
 * Reports every finished unary call to `observer`. grpc-js answers methods that are not
 * registered (UNIMPLEMENTED) before any interceptor runs, so `method` is always one of the
 * server's own: the label set stays bounded whatever paths clients send.
 */
function metricsInterceptor(observer: RpcCallObserver, clock: Clock, logger: ErrorLogger): ServerInterceptor {
  return (descriptor, call) => {
    if (descriptor.requestStream || descriptor.responseStream) return new ServerInterceptingCall(call);
    const started = clock.now();
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      notifySafely(observer, { method: descriptor.path, code: grpcStatusName(code), durationMs: clock.now() - started }, logger);
    };
    return new ServerInterceptingCall(call, {
      // grpc-js sends DEADLINE_EXCEEDED itself, and a client that goes away gets no status:
      // both reach the interceptor only as a cancellation.
      start: (next) =>
        next({
          onCancel: () => {
            // gRPC deadlines are wall-clock instants, so they are compared with Date.now().
            const deadline = call.getDeadline();
            const passed = (deadline instanceof Date ? deadline.getTime() : deadline) <= Date.now();
            finish(passed ? GrpcStatus.DEADLINE_EXCEEDED : GrpcStatus.CANCELLED);
          },
        }),
      sendStatus: (status, next) => {
        finish(status.code ?? GrpcStatus.UNKNOWN);
        next(status);
      },
    });
  };
}

function verifiedValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** Services whose calls need no service token: probes and tooling reach them without one. */
const UNAUTHENTICATED_PREFIXES = ['/grpc.health.v1.Health/', '/grpc.reflection.'];

/**
 * Verifies each call's service token before its handler sees the request. The token and any
 * `x-jamey-verified-*` header the client sent are removed from the metadata; only after the
 * token verifies does the interceptor set `x-jamey-verified-caller` (and `-user`), which the
 * handler adapter turns into {@link CallContext.caller} and {@link CallContext.userSubject}.
 * A refusal answers with the verifier's status (UNAUTHENTICATED or PERMISSION_DENIED) and a
 * fixed message, and the request message is never passed on.
 */
function authInterceptor(verifier: ServiceTokenVerifier, logger: ErrorLogger, onRefused?: RpcServerOptions['onRefused']): ServerInterceptor {
  return (descriptor, call) => {
    const exempt = UNAUTHENTICATED_PREFIXES.some((prefix) => descriptor.path.startsWith(prefix));
    return new ServerInterceptingCall(call, {
      start: (next) => {
        const listener = new ServerListenerBuilder()
          .withOnReceiveMetadata((metadata, nextMetadata) => {
            const token = metadata.get(SERVICE_TOKEN_METADATA_KEY)[0];
            metadata.remove(SERVICE_TOKEN_METADATA_KEY);
            for (const key of Object.keys(metadata.getMap())) {
              if (key.startsWith(VERIFIED_PREFIX)) metadata.remove(key);
            }
            if (exempt) {
              nextMetadata(metadata);
              return;
            }
            // grpc-js holds the request message until the metadata is passed on, so a refused
            // call's message never reaches the handler.
            verifier.verify(typeof token === 'string' ? token : undefined).then(
              (verified) => {
                metadata.set(VERIFIED_CALLER_METADATA_KEY, verified.caller);
                if (verified.userSubject !== undefined) metadata.set(VERIFIED_USER_METADATA_KEY, verified.userSubject);
                nextMetadata(metadata);
              },
              (error: unknown) => {
                try {
                  if (onRefused) onRefused(descriptor.path, error, refusalDetails(call.getPeer(), metadata, error, token));
                } catch (hookError) {
                  logger.error({ err: hookError }, 'onRefused hook failed');
                }
                call.sendStatus(refusal(error, logger));
              },
            );
          })
          .build();
        next(listener);
      },
    });
  };
}

/** The {@link RefusalDetails} of a refused call. */
function refusalDetails(peer: string, metadata: Metadata, error: unknown, token: unknown): RefusalDetails {
  const userAgent = metadata.get('user-agent')[0];
  const traceparent = metadata.get('traceparent')[0];
  const verifiedCaller = (error as { reason?: unknown } | null)?.reason === 'caller_not_allowed' ? issuerOf(token) : undefined;
  return {
    peer,
    ...(typeof userAgent === 'string' ? { userAgent } : {}),
    ...(typeof traceparent === 'string' ? { traceparent } : {}),
    ...(verifiedCaller === undefined ? {} : { verifiedCaller }),
  };
}

/** The `iss` claim of a compact JWT, read without verifying it (the caller checked it already). */
function issuerOf(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    const iss = (claims as { iss?: unknown } | null)?.iss;
    return typeof iss === 'string' && /^[a-z][a-z0-9-]{0,62}$/.test(iss) ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** The status of a refused call: the verifier's AuthError keeps its code; anything else is UNAUTHENTICATED. */
function refusal(error: unknown, logger: ErrorLogger): Parameters<ServerInterceptingCall['sendStatus']>[0] {
  const status = toGrpcStatus(isJameyError(error) ? error : new JameyError('UNAUTHENTICATED', 'The service token could not be verified'), logger);
  return { code: status.code ?? GrpcStatus.UNAUTHENTICATED, details: status.details ?? 'unauthenticated', metadata: status.metadata ?? null };
}
