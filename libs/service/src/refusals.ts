import { isJameyError, ERROR_CODES } from '@jamey/core';
import {
  AccessProtocol,
  callDeniedEvent,
  createAccessRecorder,
  outcomeOfGrpcCode,
  type AccessRecordInput,
  type AccessRecorderOptions,
  type CallDeniedSource,
  type RefusalBudget,
} from '@jamey/events';
import type { RefusalDetails } from '@jamey/rpc';

/** One refused gRPC call, as the server's `onRefused` hook hears it. */
export interface Refusal {
  /** Full method path. */
  readonly method: string;
  /** The verifier's error (an AuthError with `code` and `reason`), or whatever it threw. */
  readonly error: unknown;
  readonly details: RefusalDetails;
}

/** How many refusals a process records one by one (shared with the gateway: `@jamey/events`). */
export type { RefusalBudget };

/** Options for {@link createRefusalRecorder}: the shared recorder's, with the refusing service. */
export interface RefusalRecorderOptions extends Omit<AccessRecorderOptions, 'definition'> {
  /** The refusing service: its `<service>.call_denied` event is what gets recorded. */
  readonly service: CallDeniedSource;
}

/** Records refused calls as `<service>.call_denied` access events through the outbox. */
export interface RefusalRecorder {
  /**
   * Records one refusal; never throws, never waits (the write runs in the background). Returns
   * `folded` when it went into a summary (over budget), so callers can keep their own logging
   * within the same bound.
   */
  record(refusal: Refusal): 'recorded' | 'folded';
  /** Writes the pending summaries now and waits for every write in flight. */
  flush(): Promise<void>;
  /** Starts writing summaries every `summaryIntervalMs`. */
  start(): void;
  /** Stops the timer and flushes. */
  stop(): Promise<void>;
}

/** `127.0.0.1:53122` → `127.0.0.1`, `[::1]:53122` → `::1`; anything else as it is. */
export function ipOfPeer(peer: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(peer);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(peer);
  return v4 ? v4[1]! : peer;
}

/** The gRPC code number of a refusal: the error's own (UNAUTHENTICATED or PERMISSION_DENIED), else UNAUTHENTICATED. */
function grpcCodeOf(error: unknown): number {
  return isJameyError(error) ? ERROR_CODES[error.code].grpc : ERROR_CODES.UNAUTHENTICATED.grpc;
}

function reasonOf(error: unknown): string {
  const reason = (error as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' ? reason : 'unverifiable';
}

/**
 * Turns every refused call into an access record (`<service>.call_denied`, payload
 * `jamey.audit.v1.AccessRecord`), written with the outbox in its own short transaction, so a
 * crash after the commit loses none and audit receives it through Kafka.
 *
 * **Flood bound** ({@link createAccessRecorder}, shared with the gateway). A caller flooding bad
 * tokens must not turn each one into a database write: a per-process token bucket (default 20
 * at once, 5 a second) admits single records; a refusal over budget is folded into one summary
 * per (method, outcome, reason, verified caller), with `count`, `first_time` and `last_time`
 * and no ip, user agent or trace id. Every refusal is counted in
 * `jamey_security_refusals_total` and every folded one in `jamey_security_refusals_folded_total`,
 * whatever happens to its record.
 */
export function createRefusalRecorder(options: RefusalRecorderOptions): RefusalRecorder {
  const { service, logger } = options;
  const recorder = createAccessRecorder({ ...options, definition: callDeniedEvent(service) });
  return {
    record({ method, error, details }) {
      try {
        const code = grpcCodeOf(error);
        const outcome = outcomeOfGrpcCode(code);
        const reason = reasonOf(error);
        const common = {
          action: method,
          resource: service,
          outcome,
          protocol: AccessProtocol.ACCESS_PROTOCOL_GRPC,
          status: code,
          reason,
          ...(details.verifiedCaller === undefined ? {} : { actor: details.verifiedCaller, callerService: details.verifiedCaller }),
        } satisfies Omit<AccessRecordInput, 'summary'>;
        return recorder.refuse({
          common,
          own: { ip: ipOfPeer(details.peer), userAgent: details.userAgent, traceparent: details.traceparent },
          key: `${method}\n${outcome}\n${reason}\n${details.verifiedCaller ?? ''}`,
          // The overflow summary keeps only what every refusal has in common: the service.
          overflow: { ...common, action: '*', reason: 'many', actor: undefined, callerService: undefined },
        }).kind;
      } catch (hookError) {
        logger.error({ err: hookError }, 'recording a refused call failed');
        return 'recorded';
      }
    },
    flush: () => recorder.flush(),
    start: () => recorder.start(),
    stop: () => recorder.stop(),
  };
}
