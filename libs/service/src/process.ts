import { exitOnSignals } from '@jamey/core';
import type { EventTransport } from '@jamey/events';
import { createServiceAuth, serviceKeySettingsFromEnv, type ServiceAuth } from '@jamey/security';
import { shutdownTelemetry, type Logger } from '@jamey/telemetry';
import type { ServiceName } from '@jamey/topology';
import type { RunningService } from './kit.js';
import type { ServiceSettings } from './settings.js';

/**
 * For a service process's `main.ts`: on SIGTERM or SIGINT, stops the service (its ordered
 * shutdown), closes the event transport the process owns, flushes the spans not exported yet
 * (`shutdownTelemetry`), and exits 0. Force-exits when that takes more than the drain grace
 * period plus 5 s.
 *
 * Pass the service while it is still starting (the promise `start…()` returned): the handlers
 * are then in place from the first moment, and a signal that arrives during start-up (a pod
 * deleted while its consumer joins its group) waits for the start to finish and stops the
 * service cleanly, instead of the process dying of the signal.
 */
export function stopOnSignals(
  running: RunningService | Promise<RunningService>,
  transport: EventTransport,
  logger: Logger,
  settings: ServiceSettings,
): void {
  exitOnSignals(
    async () => {
      await (await running).stop();
      await transport.close();
      await shutdownTelemetry();
    },
    logger,
    settings.shutdownGraceMs + 5000,
  );
}

/**
 * A service process's service-token keys from `JAMEY_SERVICE_SIGNING_KEY_FILE` and
 * `JAMEY_SERVICE_PUBLIC_KEYS_FILE` (or the variables themselves), loaded now so a missing or
 * broken key stops the start with a message naming the variable, never the key. Rotated files
 * are picked up without a restart; a rotated file that cannot be used is logged at warn and the
 * previous key stays in force.
 * @throws {Error} when a variable is missing or a key is unusable.
 */
export function loadServiceAuth(self: ServiceName, env: Readonly<Record<string, string | undefined>>, logger: Logger): Promise<ServiceAuth> {
  return createServiceAuth(self, serviceKeySettingsFromEnv(self, env), {
    onKeyError: (error) => logger.warn({ err: error }, 'a rotated service key could not be used; the previous one stays in force'),
  });
}
