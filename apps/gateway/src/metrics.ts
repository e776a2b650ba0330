import { LATENCY_BUCKETS_SECONDS } from '@jamey/telemetry';
import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

/** The `route` label of requests no route matched (404s, wrong methods): never the raw URL. */
export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Records `http_server_request_duration_seconds{method,route,status_code}` for every response.
 * Labels stay bounded whatever clients send: `route` is the matched route's template (for
 * example `/v1/memories/:id`) or {@link UNMATCHED_ROUTE}, never the URL; `method` is one of the
 * usual verbs or `_OTHER`.
 */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP requests served by the gateway, by method, route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // The not-found handler has no route: routeOptions.url is undefined there.
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    duration.observe(
      { method: KNOWN_METHODS.has(request.method) ? request.method : '_OTHER', route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}
