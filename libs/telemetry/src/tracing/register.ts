/**
 * The OpenTelemetry bootstrap: `node --import @jamey/telemetry/register dist/main.js`.
 *
 * It runs before the app's first import (STYLE.md §2) and the app never imports it. It starts
 * the SDK configured by the standard `OTEL_*` variables (see `tracingSettingsFromEnv`).
 * `shutdownTelemetry()` flushes it at the end of the service's ordered shutdown.
 *
 * Jamey is ES modules, and a CommonJS package that an ES module imports does not always pass
 * the instrumentations' require hooks (`@grpc/grpc-js` does not), so this also registers the
 * import-in-the-middle loader hook, limited to the instrumented packages: every other module
 * loads untouched. The tracing tests prove the patching on real gRPC calls.
 *
 * `OTEL_SDK_DISABLED=true` turns all of it off.
 */
import { register } from 'node:module';
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { startTelemetrySdk, setProcessTelemetry } from './sdk.js';
import { tracingSettingsFromEnv } from './settings.js';

/** Packages patched through the ESM loader hook (those the instrumentations in sdk.ts patch). */
const HOOKED_MODULES = ['@grpc/grpc-js', 'pg', 'pg-pool', 'ioredis'];

if (process.env['OTEL_SDK_DISABLED']?.trim().toLowerCase() !== 'true') {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: HOOKED_MODULES } });
  // The SDK reports its own problems (an unreachable collector, say) through diag; without a
  // logger they would vanish. OTEL_LOG_LEVEL makes it chattier, and the SDK then installs its own.
  if (process.env['OTEL_LOG_LEVEL'] === undefined) diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);
  const settings = tracingSettingsFromEnv(process.env, process.argv[1]);
  setProcessTelemetry(startTelemetrySdk(settings, process.env));
}
