import { AccessOutcome, AccessProtocol, outcomeOfHttpStatus, type AccessRecorder, type AccessRecordInput } from '@jamey/events';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isApiPath } from './auth.js';

/** Options for {@link registerAccessLog}. */
export interface AccessLogOptions {
  /** Writes `gateway.request_completed` records through the gateway's outbox. */
  readonly recorder: AccessRecorder;
  /** Called for each record that could not be written (the response is sent anyway). */
  readonly onRecordFailed?: () => void;
}

/** The outcomes whose records are written within the flood bound (folded beyond it). */
const REFUSALS = new Set<AccessOutcome>([
  AccessOutcome.ACCESS_OUTCOME_UNAUTHENTICATED,
  AccessOutcome.ACCESS_OUTCOME_DENIED,
  AccessOutcome.ACCESS_OUTCOME_THROTTLED,
]);

/** The action of a request that matched no route (404, 405): its path is in `resource`. */
export const UNMATCHED_ROUTE = '(unmatched)';

/** What the request left for its record: the error it was answered with, and its trace. */
const errors = new WeakMap<FastifyRequest, unknown>();
const traces = new WeakMap<FastifyRequest, string>();

/** The `traceparent` of the request's span, when tracing is on. */
function currentTraceparent(): string | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  if (context === undefined || !isSpanContextValid(context)) return undefined;
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The refusal's reason: an AuthError's, `rate_limited` for 429, else empty. */
function reasonOf(error: unknown, status: number): string {
  const reason = (error as { reason?: unknown } | undefined)?.reason;
  if (typeof reason === 'string') return reason;
  return status === 429 ? 'rate_limited' : '';
}

function missingScopesOf(error: unknown): readonly string[] {
  const missing = (error as { missingScopes?: unknown } | undefined)?.missingScopes;
  return Array.isArray(missing) ? missing.filter((scope): scope is string => typeof scope === 'string') : [];
}

/**
 * Writes one `gateway.request_completed` access record per `/v1` request (docs/events.md):
 * actor (the token's subject, or empty), action (`METHOD /v1/route/:pattern`), resource (the
 * concrete path), outcome from the status, status, ip, user agent and trace id.
 *
 * The record is written in `onSend`, in its own short transaction, and awaited: the response
 * leaves only after its record is committed, so a crash loses no record of an answered
 * request. Refusals (401, 403, 429) go through the recorder's flood bound: within the budget
 * each is written (and awaited) like any request; beyond it they fold into summary records,
 * so a storm of bad tokens costs a bounded number of writes.
 *
 * A write that fails (the database is down) does not fail the request: availability wins over
 * audit completeness (docs/security.md, "Audit log and its verification"); the recorder logs it
 * and `onRecordFailed` counts it.
 */
export function registerAccessLog(app: FastifyInstance, options: AccessLogOptions): void {
  const { recorder, onRecordFailed } = options;
  app.addHook('onRequest', async (request) => {
    if (!isApiPath(request.url)) return;
    const traceparent = currentTraceparent() ?? (typeof request.headers.traceparent === 'string' ? request.headers.traceparent : undefined);
    if (traceparent !== undefined) traces.set(request, traceparent);
  });
  app.addHook('onError', async (request, _reply, error) => {
    errors.set(request, error);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (!isApiPath(request.url)) return payload;
    try {
      const status = reply.statusCode;
      const outcome = outcomeOfHttpStatus(status);
      const error = errors.get(request);
      const common = {
        actor: request.principal?.subject,
        action: `${request.method} ${request.routeOptions.url ?? UNMATCHED_ROUTE}`,
        resource: request.url.split('?')[0] ?? request.url,
        outcome,
        protocol: AccessProtocol.ACCESS_PROTOCOL_HTTP,
        status,
        reason: reasonOf(error, status),
        missingScopes: missingScopesOf(error),
      } satisfies Omit<AccessRecordInput, 'summary'>;
      const own = { ip: request.ip, userAgent: request.headers['user-agent'], traceparent: traces.get(request) };
      let written: Promise<boolean>;
      if (REFUSALS.has(outcome)) {
        const result = recorder.refuse({
          common,
          own,
          // Folded per route, outcome, reason and actor: an anonymous storm is one summary per route.
          key: `${common.action}\n${outcome}\n${common.reason}\n${common.actor ?? ''}`,
          overflow: { ...common, action: '*', resource: '', reason: 'many', actor: undefined, missingScopes: [] },
        });
        if (result.kind === 'folded') return payload;
        written = result.written;
      } else {
        written = recorder.write({ ...common, ...own });
      }
      if (!(await written)) onRecordFailed?.();
    } catch (error) {
      request.log.error({ err: error }, 'recording the request failed');
      onRecordFailed?.();
    }
    return payload;
  });
}
