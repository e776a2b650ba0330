import type { HealthProbe, ProbeResult } from '../../domain/health.js';

interface ReadinessBody {
  checks?: { name?: string; ok?: boolean; error?: string }[];
}

/**
 * A probe that GETs an admin server's `/readyz` (`baseUrl` like `http://127.0.0.1:9100`):
 * 200 is SERVING, 503 NOT_SERVING with the failing checks as detail, anything else UNKNOWN, and
 * no answer UNREACHABLE. Used for the gateway, which serves no gRPC.
 */
export function createHttpReadinessProbe(baseUrl: string): HealthProbe {
  const url = new URL('/readyz', baseUrl).toString();
  return async (signal) => {
    let response: Response;
    try {
      response = await fetch(url, { signal, headers: { accept: 'application/json' } });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      return { status: 'UNREACHABLE', detail: describeFetchError(error) };
    }
    const body = await response.text().catch(() => '');
    if (response.status === 200) return { status: 'SERVING' };
    if (response.status === 503) return { status: 'NOT_SERVING', detail: failingChecks(body) ?? 'not ready' };
    return { status: 'UNKNOWN', detail: `readyz answered HTTP ${response.status}` } satisfies ProbeResult;
  };
}

function failingChecks(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as ReadinessBody;
    const failing = (parsed.checks ?? []).filter((check) => check.ok === false);
    if (failing.length === 0) return undefined;
    return `not ready: ${failing.map((check) => (check.error ? `${check.name}: ${check.error}` : check.name)).join(', ')}`;
  } catch {
    return undefined;
  }
}

// undici reports "fetch failed" and keeps the socket error (ECONNREFUSED, …) in `cause`.
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) return `${error.message}: ${(cause as NodeJS.ErrnoException).code ?? cause.message}`;
  return error.message;
}
