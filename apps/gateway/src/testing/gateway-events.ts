import { createEventLog, type EventLog } from '@jamey/events/testing';
import type { EventTransport } from '@jamey/events';

/** An in-process bus that logs what the gateway publishes, and a PGlite outbox, for one test file. */
export interface GatewayEventsFixture {
  /** Spread into the gateway's environment: its outbox in an in-memory PGlite. */
  readonly env: { readonly GATEWAY_DATABASE_URL: string };
  /** Hand to `startGateway`. */
  readonly transport: EventTransport;
  /** What reached the bus, by type and subject (the actor, or `anonymous`). */
  readonly log: EventLog<'gateway'>;
  close(): Promise<void>;
}

/**
 * The embedded way of publishing access records, for tests of a running gateway: PGlite
 * (`pglite://memory`) holds the outbox, and the relay sends to an in-process bus whose test
 * consumer group logs every `gateway.request_completed`.
 */
export async function createGatewayEvents(): Promise<GatewayEventsFixture> {
  const { transport, log } = await createEventLog({ source: 'gateway' });
  return { env: { GATEWAY_DATABASE_URL: 'pglite://memory' }, transport, log, close: () => log.close() };
}
