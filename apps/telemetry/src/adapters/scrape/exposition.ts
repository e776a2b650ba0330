import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { Sample } from '../../domain/metrics/samples.js';

/** A sample value; special values in any case, as Go's ParseFloat reads them (prom-client writes `Nan`). */
function parseValue(text: string | undefined): number {
  if (text === undefined) return NaN;
  switch (text.toLowerCase()) {
    case '+inf':
    case 'inf':
      return Infinity;
    case '-inf':
      return -Infinity;
    case 'nan':
      return NaN;
    default: {
      const value = text.trim() === '' ? NaN : Number(text);
      if (Number.isNaN(value)) throw new Error(`"${text.slice(0, 40)}" is not a sample value`);
      return value;
    }
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Parses a Prometheus text exposition into flat samples, the way Prometheus stores them: a
 * histogram becomes its `_bucket{le}`, `_sum` and `_count` series.
 *
 * The parsing is done by `parse-prometheus-text-format`. Its histogram and summary grouping
 * drops the labels of every labelled histogram and keeps only the last series' buckets
 * (yunyu/parse-prometheus-text-format#13, fix unmerged in #8), so their `# TYPE` lines are read
 * as `untyped`: every `_bucket`, `_sum` and `_count` line then comes back as its own sample
 * with all its labels, which is exactly the flat form wanted here.
 * @throws Error on a line that is not valid exposition format.
 */
export function parseExposition(text: string): Sample[] {
  const untyped = text.replace(/^#\s+TYPE\s+(\S+)\s+(histogram|summary)\s*$/gim, '# TYPE $1 untyped');
  const samples: Sample[] = [];
  for (const family of parsePrometheusTextFormat(untyped)) {
    if (!METRIC_NAME.test(family.name)) throw new Error(`"${family.name.slice(0, 40)}" is not a metric name`);
    for (const metric of family.metrics) {
      samples.push({ name: family.name, labels: metric.labels ?? {}, value: parseValue(metric.value) });
    }
  }
  return samples;
}
