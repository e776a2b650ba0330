import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';

/**
 * Answers every request with a W3C `traceresponse` header (Trace Context Level 2):
 * `00-<trace id>-<span id>-<flags>` of the request's span, so a client, or whoever reads its
 * logs, can open the request's trace in Jaeger. No header when tracing is off.
 */
export function registerTraceResponse(app: FastifyInstance): void {
  app.addHook('onRequest', async (_request, reply) => {
    const span = trace.getActiveSpan();
    if (span === undefined) return;
    const context = span.spanContext();
    if (!isSpanContextValid(context)) return;
    const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
    reply.header('traceresponse', `00-${context.traceId}-${context.spanId}-${flags}`);
  });
}
