import { waitFor } from '@jamey/data/testing';
import { spansOf, type CollectedSpan } from '@jamey/telemetry/testing';

/** Reads traces back from Jaeger's query API (`/api/v3`, OTLP/JSON). */
export interface JaegerQuery {
  /** Every span of one trace stored so far (empty while Jaeger has none). */
  trace(traceId: string): Promise<CollectedSpan[]>;
  /** The spans of `service`'s traces that started at or after `since`, up to `depth` traces. */
  search(service: string, since: Date, depth?: number): Promise<CollectedSpan[]>;
  /** Polls until `found` returns something for the spans `fetch` gives, failing with what it saw. */
  poll<T>(what: string, fetch: () => Promise<CollectedSpan[]>, found: (spans: CollectedSpan[]) => T | undefined, timeoutMs?: number): Promise<T>;
}

/** A client for the Jaeger query service at `baseUrl` (`JAMEY_JAEGER_QUERY_URL`). */
export function jaegerQuery(baseUrl: string): JaegerQuery {
  const get = async (path: string): Promise<CollectedSpan[]> => {
    const response = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(5_000) });
    // 404: no such trace (yet); spans arrive a batch delay after the request.
    if (response.status === 404) return [];
    const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
    if (!response.ok) throw new Error(`Jaeger ${path}: ${response.status} ${body.error?.message ?? ''}`);
    return spansOf(body.result ?? {});
  };
  return {
    trace: (traceId) => get(`/api/v3/traces/${traceId}`),
    search: (service, since, depth = 200) => {
      const query = new URLSearchParams({
        'query.service_name': service,
        'query.start_time_min': since.toISOString(),
        'query.start_time_max': new Date(Date.now() + 60_000).toISOString(),
        'query.num_traces': String(depth),
      });
      return get(`/api/v3/traces?${query}`);
    },
    // Generous: the other end-to-end suites may stop the Kafka broker for 30 s meanwhile.
    async poll(what, fetch, found, timeoutMs = 120_000) {
      let last: CollectedSpan[] = [];
      let result: ReturnType<typeof found>;
      try {
        await waitFor(
          async () => {
            last = await fetch();
            result = found(last);
            return result !== undefined;
          },
          { timeoutMs, intervalMs: 250, message: what },
        );
      } catch (error) {
        const seen = last.map((s) => `${String(s.resource['service.name'])}: ${s.name} (${s.spanId} <- ${s.parentSpanId || 'root'})`);
        throw new Error(`${(error as Error).message}\nspans seen:\n  ${seen.join('\n  ')}`);
      }
      return result!;
    },
  };
}

/** The service that made a span (`service.name` of its resource). */
export const serviceOf = (span: CollectedSpan): unknown => span.resource['service.name'];
