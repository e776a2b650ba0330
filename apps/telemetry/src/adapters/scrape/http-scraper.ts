import type { Sample } from '../../domain/metrics/samples.js';
import { parseExposition } from './exposition.js';

/** Reads one target's metrics. Rejects with a reason when the target cannot be scraped. */
export type Scraper = (signal: AbortSignal) => Promise<Sample[]>;

/** Largest exposition accepted, in bytes: a runaway label set must not exhaust telemetry. */
const MAX_BYTES = 8 * 1024 * 1024;

/**
 * A scraper that GETs `<adminBaseUrl>/metrics` (for example `http://memory:9101`) and parses the
 * text format. Non-200 answers, oversized bodies and unparsable text are errors; the caller's
 * signal carries the per-scrape timeout.
 */
export function createHttpScraper(adminBaseUrl: string): Scraper {
  const url = new URL('/metrics', adminBaseUrl).toString();
  return async (signal) => {
    const response = await fetch(url, { signal, headers: { accept: 'text/plain;version=0.0.4' } });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`/metrics answered HTTP ${response.status}`);
    }
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_BYTES) {
      await response.body?.cancel();
      throw new Error(`/metrics is ${length} bytes, more than ${MAX_BYTES}`);
    }
    const text = await response.text();
    if (text.length > MAX_BYTES) throw new Error(`/metrics is more than ${MAX_BYTES} bytes`);
    try {
      return parseExposition(text);
    } catch (error) {
      throw new Error(`/metrics is not valid exposition format: ${(error as Error).message}`, { cause: error });
    }
  };
}

/** A scraper of a registry in this process (telemetry's own metrics): no HTTP needed. */
export function createRegistryScraper(registry: { metrics(): Promise<string> }): Scraper {
  return async (signal) => {
    signal.throwIfAborted();
    return parseExposition(await registry.metrics());
  };
}
