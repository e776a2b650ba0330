/** The logger this library writes to. Structurally compatible with pino (`logger.warn(obj, msg)`). */
export interface Logger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}
