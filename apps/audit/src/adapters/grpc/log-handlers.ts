import { invalidArgument, notFound } from '@jamey/core';
import type { audit as pb } from '@jamey/proto';
import type { ServiceHandlers } from '@jamey/rpc';
import type { TreeHeadStore } from '../../domain/tree-heads.js';
import type { VerifiableLog } from '../../domain/verifiable-log.js';

/** What the verifiable-log handlers read. */
export interface LogHandlersDeps {
  readonly log: VerifiableLog;
  readonly heads: TreeHeadStore;
  /** Absent when this instance signs no tree heads. */
  readonly info?: { readonly verifierKey: string; readonly origin: string } | undefined;
}

type LogMethods = 'getLogInfo' | 'getCheckpoint' | 'getInclusionProof' | 'getConsistencyProof' | 'verifyLog';

/** gRPC handlers of the verifiable-log methods of `jamey.audit.v1.AuditService`. */
export function createLogHandlers(deps: LogHandlersDeps): Pick<ServiceHandlers<pb.AuditServiceServer>, LogMethods> {
  const { log, heads, info } = deps;
  const latestSize = async (field: string, requested: number, signal: AbortSignal): Promise<number> => {
    if (!Number.isSafeInteger(requested) || requested < 0) throw invalidArgument(field, `${field} must be a non-negative integer`);
    if (requested > 0) return requested;
    const latest = await heads.latest(signal);
    if (!latest) throw notFound('checkpoint', 'latest');
    return latest.size;
  };
  return {
    async getLogInfo() {
      if (!info) throw notFound('verifier key', 'audit log');
      return { verifierKey: info.verifierKey, origin: info.origin };
    },

    async getCheckpoint(request, { signal }) {
      if (!Number.isSafeInteger(request.treeSize) || request.treeSize < 0) throw invalidArgument('tree_size', 'tree_size must be a non-negative integer');
      const head = request.treeSize === 0 ? await heads.latest(signal) : await heads.atSize(request.treeSize, signal);
      if (!head) throw notFound('checkpoint', request.treeSize === 0 ? 'latest' : String(request.treeSize));
      return { checkpoint: head.note, treeSize: head.size, rootHash: head.rootHash };
    },

    async getInclusionProof(request, { signal }) {
      const leaf = request.leaf;
      if (!leaf) throw invalidArgument('leaf', 'give sequence or leaf_index');
      if (leaf.$case === 'sequence' && (!Number.isSafeInteger(leaf.value) || leaf.value < 1)) {
        throw invalidArgument('sequence', 'sequence must be a positive integer');
      }
      const leafIndex = leaf.$case === 'sequence' ? leaf.value - 1 : leaf.value;
      const treeSize = await latestSize('tree_size', request.treeSize, signal);
      const proof = await log.inclusionProof(leafIndex, treeSize, signal);
      return { leafIndex: proof.leafIndex, treeSize: proof.treeSize, entry: proof.entry, proof: [...proof.proof] };
    },

    async getConsistencyProof(request, { signal }) {
      const toSize = await latestSize('to_size', request.toSize, signal);
      const proof = await log.consistencyProof(request.fromSize, toSize, signal);
      return { fromSize: proof.fromSize, toSize: proof.toSize, proof: [...proof.proof] };
    },

    async verifyLog(_request, { signal }) {
      const head = await heads.latest(signal);
      const result = await log.verify(head, signal);
      return result.ok
        ? { ok: true, treeSize: result.treeSize, checkedTreeSize: head?.size ?? 0, badIndex: 0, problem: '', detail: '' }
        : { ok: false, treeSize: result.treeSize, checkedTreeSize: head?.size ?? 0, badIndex: result.index, problem: result.problem, detail: result.detail };
    },
  };
}
