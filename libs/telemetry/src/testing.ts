/**
 * Test helpers for `@jamey/telemetry` users (`@jamey/telemetry/testing`): reading traces
 * (OTLP/JSON from exporters and from Jaeger's query API) and Prometheus metrics.
 */
export * from './tracing/otlp.js';
export * from './metrics-testing.js';
