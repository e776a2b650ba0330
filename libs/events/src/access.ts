import { access } from '@jamey/proto';
import { Counter, type Registry } from 'prom-client';
import { catalog, type Catalog } from './catalog.js';
import { parseTraceparent } from './tracing.js';

/** The payload of every access event (`jamey.audit.v1.AccessRecord`). */
export type AccessRecord = access.AccessRecord;
/** How an access ended (`jamey.audit.v1.AccessOutcome`). */
export const AccessOutcome = access.AccessOutcome;
export type AccessOutcome = access.AccessOutcome;
/** Which protocol an access record's `status` belongs to. */
export const AccessProtocol = access.AccessProtocol;
export type AccessProtocol = access.AccessProtocol;

/** Services that refuse gRPC calls and publish `<service>.call_denied`. */
export type CallDeniedSource = {
  [K in keyof Catalog]: K extends `${infer S}.call_denied` ? S : never;
}[keyof Catalog];

/** The `<service>.call_denied` definition of `service`. */
export function callDeniedEvent<S extends CallDeniedSource>(service: S): Catalog[`${S}.call_denied`] {
  return catalog[`${service}.call_denied`];
}

/**
 * The outcome of an HTTP response: 401 unauthenticated, 403 denied, 429 throttled, other 4xx
 * failed, 5xx error, anything below 400 allowed.
 */
export function outcomeOfHttpStatus(status: number): AccessOutcome {
  if (status === 401) return AccessOutcome.ACCESS_OUTCOME_UNAUTHENTICATED;
  if (status === 403) return AccessOutcome.ACCESS_OUTCOME_DENIED;
  if (status === 429) return AccessOutcome.ACCESS_OUTCOME_THROTTLED;
  if (status >= 500) return AccessOutcome.ACCESS_OUTCOME_ERROR;
  if (status >= 400) return AccessOutcome.ACCESS_OUTCOME_FAILED;
  return AccessOutcome.ACCESS_OUTCOME_ALLOWED;
}

/** gRPC codes that say the caller asked for something it cannot have (the server did not fail). */
const CALLER_FAULT_CODES = new Set([
  1, // CANCELLED
  3, // INVALID_ARGUMENT
  5, // NOT_FOUND
  6, // ALREADY_EXISTS
  9, // FAILED_PRECONDITION
  10, // ABORTED
  11, // OUT_OF_RANGE
]);

/**
 * The outcome of a gRPC status code: OK allowed, UNAUTHENTICATED, PERMISSION_DENIED denied,
 * RESOURCE_EXHAUSTED throttled, the caller-fault codes failed, and the rest (UNKNOWN, INTERNAL,
 * UNAVAILABLE, DEADLINE_EXCEEDED, UNIMPLEMENTED, DATA_LOSS) error.
 */
export function outcomeOfGrpcCode(code: number): AccessOutcome {
  if (code === 0) return AccessOutcome.ACCESS_OUTCOME_ALLOWED;
  if (code === 16) return AccessOutcome.ACCESS_OUTCOME_UNAUTHENTICATED;
  if (code === 7) return AccessOutcome.ACCESS_OUTCOME_DENIED;
  if (code === 8) return AccessOutcome.ACCESS_OUTCOME_THROTTLED;
  return CALLER_FAULT_CODES.has(code) ? AccessOutcome.ACCESS_OUTCOME_FAILED : AccessOutcome.ACCESS_OUTCOME_ERROR;
}

/** `denied` for an {@link AccessOutcome}: the value audit indexes and the metrics label. */
export function outcomeName(outcome: AccessOutcome): string {
  return access.accessOutcomeToJSON(outcome).replace(/^ACCESS_OUTCOME_/, '').toLowerCase();
}

/**
 * Longest text kept in an access record field, in characters. Paths, user agents and reasons
 * can come from an attacker; the cut keeps every record small whatever was sent.
 */
export const ACCESS_TEXT_MAX_CHARS = 512;

function text(value: string | undefined): string {
  if (value === undefined) return '';
  // Lone surrogates and NUL would not survive JSON and Postgres text; cut by code points.
  const points = Array.from(value.replaceAll('\u0000', '\uFFFD'));
  return points.length > ACCESS_TEXT_MAX_CHARS ? points.slice(0, ACCESS_TEXT_MAX_CHARS).join('') : points.join('');
}

/** What a producer knows about one access; every text field is optional. */
export interface AccessRecordInput {
  /** The user subject, or the calling service for a service's own work. */
  readonly actor?: string | undefined;
  /** `GET /v1/memories` (method and route pattern) or the gRPC method path. */
  readonly action: string;
  /** The concrete path, or the callee service of a gRPC call. */
  readonly resource?: string | undefined;
  readonly outcome: AccessOutcome;
  readonly protocol: AccessProtocol;
  /** HTTP status or gRPC code. */
  readonly status: number;
  /** The AuthError reason when refused. */
  readonly reason?: string | undefined;
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
  /** The request's W3C `traceparent`; its trace id is kept. */
  readonly traceparent?: string | undefined;
  /** The calling service, from its verified service token. */
  readonly callerService?: string | undefined;
  readonly missingScopes?: readonly string[] | undefined;
  /** For a summary record only: how many accesses it stands for, and when the first and last were. */
  readonly summary?: { readonly count: number; readonly firstTime: Date; readonly lastTime: Date } | undefined;
}

/**
 * Builds an access record payload: text fields are cut to {@link ACCESS_TEXT_MAX_CHARS}, the
 * trace id comes from a valid `traceparent` only. Pure; the gateway and the service kit both
 * use it.
 */
export function accessRecord(input: AccessRecordInput): AccessRecord {
  return {
    actor: text(input.actor),
    action: text(input.action),
    resource: text(input.resource),
    outcome: input.outcome,
    protocol: input.protocol,
    status: Math.max(0, Math.trunc(input.status)),
    reason: text(input.reason),
    ip: text(input.ip),
    userAgent: text(input.userAgent),
    traceId: parseTraceparent(input.traceparent)?.traceId ?? '',
    callerService: text(input.callerService),
    count: input.summary?.count ?? 0,
    firstTime: input.summary?.firstTime,
    lastTime: input.summary?.lastTime,
    missingScopes: (input.missingScopes ?? []).slice(0, 16).map(text),
  };
}

/**
 * The envelope subject (and Kafka key) of an access record: its actor, or `anonymous` when the
 * caller could not be identified. Records of one actor stay in order.
 */
export function accessSubject(record: AccessRecord): string {
  return record.actor === '' ? 'anonymous' : record.actor;
}

/** Counters of refused accesses, for alert rules (labels are bounded: outcomes and reasons). */
export interface AccessMetrics {
  /** Counts one refusal: `jamey_security_refusals_total{outcome,reason}`. */
  refused(outcome: AccessOutcome, reason: string): void;
  /** Counts refusals folded into a summary record: `jamey_security_refusals_folded_total`. */
  folded(count: number): void;
  /** Counts refusals whose record could not be written: `jamey_security_refusal_records_failed_total`. */
  recordFailed(count: number): void;
}

/** Reasons are AuthError reasons, a closed set; anything else is counted as `other`. */
const REASON = /^[a-z][a-z_]{0,39}$/;

/**
 * Registers the security counters on `registry` (the service's, whose default `service` label
 * tells who refused):
 * - `jamey_security_refusals_total{outcome,reason}`: every refused access (unauthenticated,
 *   denied, throttled) by reason, recorded or folded;
 * - `jamey_security_refusals_folded_total`: refusals not recorded one by one because the
 *   service was over its record budget, but folded into a summary record;
 * - `jamey_security_refusal_records_failed_total`: refusals whose record (single or summary)
 *   could not be written, for example while the database is down.
 */
export function createAccessMetrics(registry: Registry): AccessMetrics {
  const registers = [registry];
  const refusals = new Counter({
    name: 'jamey_security_refusals_total',
    help: 'Refused accesses (unauthenticated, denied, throttled), by outcome and reason.',
    labelNames: ['outcome', 'reason'],
    registers,
  });
  const folded = new Counter({
    name: 'jamey_security_refusals_folded_total',
    help: 'Refusals folded into a summary access record because the service was over its record budget.',
    registers,
  });
  const failed = new Counter({
    name: 'jamey_security_refusal_records_failed_total',
    help: 'Refusals whose access record could not be written.',
    registers,
  });
  return {
    refused: (outcome, reason) => refusals.inc({ outcome: outcomeName(outcome), reason: REASON.test(reason) ? reason : 'other' }),
    folded: (count) => folded.inc(count),
    recordFailed: (count) => failed.inc(count),
  };
}
