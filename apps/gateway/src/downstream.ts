import type { Clock } from '@jamey/core';
import type { RpcCallOptions } from '@jamey/rpc';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Options for every gRPC call made on behalf of this request: the deadline (request start
     * plus the downstream budget, never refreshed), a signal that aborts when the client
     * goes away before the response is written, and the `x-jamey-canary` routing header.
     */
    downstream: RpcCallOptions;
  }
}

/**
 * The header that routes a request to the canary subsets (helm/jamey's VirtualServices match
 * `x-jamey-canary: always`). The gateway passes it on as gRPC metadata, so the request's calls
 * reach the canaries too.
 */
export const CANARY_HEADER = 'x-jamey-canary';

/** The value forwarded for `x-jamey-canary`: only `always`, the one the mesh routes on. */
function canaryRouting(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.trim().toLowerCase() === 'always' ? 'always' : undefined;
}

/** Options for {@link registerDownstreamContext}. */
export interface DownstreamContextOptions {
  readonly clock: Clock;
  /** Budget of every request for its downstream calls, from the moment it arrives. */
  readonly timeoutMs: number;
}

/**
 * Gives every request its downstream call options. Must be called on the root instance before
 * routes are registered, so the hook applies to all of them.
 */
export function registerDownstreamContext(app: FastifyInstance, options: DownstreamContextOptions): void {
  app.decorateRequest('downstream', null as unknown as RpcCallOptions);
  app.addHook('onRequest', async (request, reply) => {
    const controller = new AbortController();
    // Not `request.signal`: on Node 20 it aborts as soon as a POST body has been read, because
    // IncomingMessage emits 'close' then (https://github.com/fastify/fastify/pull/7033). The
    // response side is reliable: it closes before ending only when the client went away.
    const response = reply.raw;
    const onClose = (): void => {
      if (!response.writableEnded) controller.abort(new Error('client disconnected'));
    };
    response.once('close', onClose);
    const canary = canaryRouting(request.headers[CANARY_HEADER]);
    request.downstream = {
      deadline: options.clock.now() + options.timeoutMs,
      signal: controller.signal,
      ...(canary !== undefined ? { metadata: { [CANARY_HEADER]: canary } } : {}),
    };
  });
}
