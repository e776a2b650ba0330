import { soul as pb } from '@jamey/proto';
import type { ServiceHandlers } from '@jamey/rpc';
import { toProtoEntity, toProtoInteraction } from '../../domain/proto-mapping.js';
import type { SoulService } from '../../domain/soul-service.js';

/**
 * The methods `jamey.soul.v1.SoulService` declares. `pb.SoulServiceServer` also carries grpc-js's
 * `UntypedServiceImplementation` string index signature, which `ServiceHandlers` maps to `never`;
 * picking the declared methods keeps the handlers fully typed without it.
 */
type SoulServer = Pick<pb.SoulServiceServer, keyof pb.SoulServiceService>;

/** gRPC handlers of `jamey.soul.v1.SoulService`. */
export function createSoulHandlers(service: SoulService): ServiceHandlers<SoulServer> {
  return {
    async upsertEntity(request, { signal }) {
      const { entity, created } = await service.upsertEntity({ id: request.id, name: request.name }, signal);
      return { entity: toProtoEntity(entity), created };
    },

    async recordInteraction(request, { signal }) {
      const { entity, interaction } = await service.recordInteraction(
        { entityId: request.entityId, valence: request.valence, note: request.note },
        signal,
      );
      return { entity: toProtoEntity(entity), interaction: toProtoInteraction(interaction) };
    },

    async getEntity(request, { signal }) {
      return { entity: toProtoEntity(await service.getEntity(request.id, signal)) };
    },
  };
}
