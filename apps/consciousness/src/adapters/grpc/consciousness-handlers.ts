import { consciousness as pb } from '@jamey/proto';
import type { ServiceHandlers } from '@jamey/rpc';
import type { ConsciousnessService } from '../../domain/consciousness-service.js';
import { toProtoContextMemory, toProtoIntegration, toProtoPerception, toProtoWorkspaceState } from '../../domain/proto-mapping.js';

// `ServiceHandlers<pb.ConsciousnessServiceServer>` maps grpc-js's string index signature to `never`
// (reported to the lead); naming the methods avoids it until libs/rpc drops index signatures.
type ConsciousnessMethods = Pick<pb.ConsciousnessServiceServer, 'perceive' | 'getState' | 'getIntegration'>;

/** gRPC handlers of `jamey.consciousness.v1.ConsciousnessService`. */
export function createConsciousnessHandlers(service: ConsciousnessService): ServiceHandlers<ConsciousnessMethods> {
  return {
    async perceive(request, { deadline, signal }) {
      const result = await service.perceive(
        { input: request.input, source: request.source, salience: request.salience, entityId: request.entityId },
        { deadline, signal },
      );
      return {
        perception: toProtoPerception(result.perception),
        focus: toProtoPerception(result.focus),
        focusChanged: result.focusChanged,
        context: result.context.map(toProtoContextMemory),
        sourceTrust: result.sourceTrust,
        degradedDependencies: [...result.degradedDependencies],
      };
    },

    async getState(_request, { signal }) {
      return { state: toProtoWorkspaceState(await service.getState(signal)) };
    },

    async getIntegration(_request, { signal }) {
      return { integration: toProtoIntegration(await service.integration(signal)) };
    },
  };
}
