/**
 * What makes no spans: health checks and metrics scrapes. They arrive every few seconds from
 * Kubernetes, Prometheus, the telemetry service and the gateway's readiness checks, and would
 * bury the requests worth looking at.
 */

/** HTTP paths (admin servers and the gateway) whose requests, incoming or outgoing, make no spans. */
export const UNTRACED_HTTP_PATHS: readonly string[] = ['/healthz', '/readyz', '/livez', '/metrics'];

/**
 * Methods of the gRPC health service (`grpc.health.v1.Health/Check` and `/Watch`). The grpc
 * instrumentation matches its ignore list against the bare method name only, on the server
 * and the client side, so no Jamey RPC may be called `Check` or `Watch` (a test guards it).
 */
export const UNTRACED_GRPC_METHODS: readonly string[] = ['Check', 'Watch'];

/** True for a request path (query string allowed) or URL that must not be traced. */
export function isUntracedHttpPath(url: string | undefined): boolean {
  if (url === undefined) return false;
  let path = url;
  // Absolute URLs (outgoing requests) keep only their path.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    try {
      path = new URL(path).pathname;
    } catch {
      return false;
    }
  }
  path = path.split('?')[0]!.split('#')[0]!;
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return UNTRACED_HTTP_PATHS.includes(path);
}
