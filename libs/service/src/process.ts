import type { Logger } from '@jamey/telemetry';

/**
 * Runs `stop` once on SIGTERM or SIGINT and exits 0 when it finishes. A second signal, or a
 * stop that outlasts `forceAfterMs`, force-exits with status 1 (the named fallback).
 */
export function exitOnSignals(stop: () => Promise<void>, logger: Logger, forceAfterMs: number): void {
  let stopping = false;
  const forceExit = (reason: string): never => {
    logger.error(`forced exit: ${reason}`);
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
