import { exitOnSignals } from '@jamey/core';
import type { EventTransport } from '@jamey/events';
import { shutdownTelemetry, type Logger } from '@jamey/telemetry';
import type { RunningService } from './kit.js';
import type { ServiceSettings } from './settings.js';

/**
 * For a service process's `main.ts`: on SIGTERM or SIGINT, stops the service (its ordered
 * shutdown), closes the event transport the process owns, flushes the spans not exported yet
 * (`shutdownTelemetry`), and exits 0. Force-exits when
 * that takes more than the drain grace period plus 5 s.
 */
export function stopOnSignals(running: RunningService, transport: EventTransport, logger: Logger, settings: ServiceSettings): void {
  exitOnSignals(
    async () => {
      await running.stop();
      await transport.close();
      await shutdownTelemetry();
    },
    logger,
    settings.shutdownGraceMs + 5000,
  );
}
