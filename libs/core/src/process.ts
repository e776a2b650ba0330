/** What {@link exitOnSignals} logs through. */
export interface ProcessLogger {
  info(object: object, message: string): void;
  error(object: object, message: string): void;
}

/**
 * Runs `stop` once on SIGTERM or SIGINT and exits 0 when it finishes. A second signal, or a
 * stop that outlasts `forceAfterMs`, force-exits with status 1: the named fallback of
 * STYLE.md §10. Only a process's `main.ts` calls this.
 */
export function exitOnSignals(stop: () => Promise<void>, logger: ProcessLogger, forceAfterMs: number): void {
  let stopping = false;
  const forceExit = (reason: string): never => {
    logger.error({ reason }, 'forced exit');
    process.exit(1);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) forceExit(`second ${signal}`);
    stopping = true;
    logger.info({ signal }, 'shutdown requested');
    setTimeout(() => forceExit(`shutdown took longer than ${forceAfterMs} ms`), forceAfterMs).unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
