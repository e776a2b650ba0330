import { context, trace } from '@opentelemetry/api';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * Paths whose values never reach log output: credentials wherever they sit (top level, one
 * level down, request headers). Values are replaced by `[redacted]`.
 */
export const REDACTED_PATHS: readonly string[] = [
  'authorization',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'apiKey',
  'cookie',
  '*.authorization',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.secret',
  '*.apiKey',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'metadata.authorization',
  'res.headers["set-cookie"]',
];

/**
 * Parses `LOG_REDACT_PATHS`: extra redaction paths (personal fields such as `*.email` or
 * `entity.name`), comma-separated, in pino's path syntax. Empty entries are ignored.
 */
export function parseRedactPaths(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((path) => path.trim())
    .filter((path) => path !== '');
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** The service name, on every line as `service`. */
  readonly service: string;
  /** Minimum level. Default `info`. */
  readonly level?: LevelWithSilent;
  /** Where lines go. Default stdout. */
  readonly destination?: pino.DestinationStream;
  /**
   * Paths redacted on top of {@link REDACTED_PATHS}. Default: the `LOG_REDACT_PATHS`
   * environment variable (comma-separated), so the personal fields of a deployment are set
   * once for every service and every logger of a process.
   */
  readonly redactPaths?: readonly string[];
}

/** `trace_id`, `span_id` and `trace_flags` of the span active where a line is written, if any. */
function traceFields(): Record<string, string> {
  const span = trace.getSpanContext(context.active());
  if (span === undefined || !trace.isSpanContextValid(span)) return {};
  return { trace_id: span.traceId, span_id: span.spanId, trace_flags: `0${span.traceFlags.toString(16)}`.slice(-2) };
}

/**
 * Creates the JSON logger a service writes every line through. Each line written inside a
 * span carries that span's `trace_id` and `span_id`, so Jaeger and the logs find each other.
 * @throws Error when a redaction path is not valid pino path syntax.
 */
export function createLogger(options: LoggerOptions): Logger {
  // The one variable read here rather than in an app's config.ts: every logger of the process,
  // including the embedded host's per-service ones and the tests', must redact the same fields.
  const extra = options.redactPaths ?? parseRedactPaths(process.env['LOG_REDACT_PATHS']);
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACTED_PATHS, ...extra], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
    },
    options.destination,
  );
}
