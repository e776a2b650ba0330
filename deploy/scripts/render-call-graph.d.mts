/** Types for render-call-graph.mjs (imported by tests/deploy). */
export interface GraphService {
  protocol: 'grpc' | 'http';
  ports: { main: number; admin: number; status?: number };
  grpcService: string | null;
  retryableMethods: string[];
  nonRetryableMethods: string[];
  downstreams: string[];
  callers: string[];
  kafka: boolean;
  database: boolean;
}
export interface CallGraphFile {
  comment: string;
  services: Record<string, GraphService>;
  edges: { from: string; to: string }[];
  healthChecks: { from: string; to: string }[];
}
export const CALL_GRAPH_FILE: string;
export function readProtoMethods(methods?: Record<string, { service: string; method: string; idempotency: string }>): Record<string, { retryable: string[]; nonRetryable: string[] }>;
export function renderCallGraph(topo?: unknown, methods?: Record<string, { service: string; method: string; idempotency: string }>): CallGraphFile;
export function callGraphText(graph?: CallGraphFile): string;
