import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Paths whose values never reach log output. */
export const REDACTED_PATHS = [
  'authorization',
  'password',
  'token',
  'secret',
  '*.authorization',
  '*.password',
  '*.token',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
];

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** The service name, on every line as `service`. */
  readonly service: string;
  /** Minimum level. Default `info`. */
  readonly level?: LevelWithSilent;
  /** Where lines go. Default stdout. */
  readonly destination?: pino.DestinationStream;
}

/** Creates the JSON logger a service writes every line through. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
