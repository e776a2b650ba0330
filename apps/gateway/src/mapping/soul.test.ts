import type { soul as pb } from '@jamey/proto';
import { describe, expect, it } from 'vitest';
import { entityToJson, interactionToJson, recordInteractionRequest, recordInteractionResult, upsertEntityRequest } from './soul.js';

const t0 = new Date('2026-01-02T03:04:05.678Z');
const entity: pb.Entity = { id: 'user:ada', name: 'Ada', trust: 0.5, interactionCount: 2, createTime: t0, updateTime: t0 };
const interaction: pb.Interaction = {
  id: '0190a0b0-c0d0-7e00-8f00-000000000009',
  entityId: 'user:ada',
  valence: -0.5,
  note: '',
  trustBefore: 0.5,
  trustAfter: 0.45,
  createTime: t0,
};

describe('soul mapping', () => {
  it('maps an entity', () => {
    expect(entityToJson(entity)).toEqual({
      id: 'user:ada',
      name: 'Ada',
      trust: 0.5,
      interactionCount: 2,
      createTime: '2026-01-02T03:04:05.678Z',
      updateTime: '2026-01-02T03:04:05.678Z',
    });
    expect(() => entityToJson(undefined)).toThrow('lacks entity');
    expect(() => entityToJson({ ...entity, updateTime: undefined })).toThrow('entity.update_time');
  });

  it('maps an interaction and a record-interaction response', () => {
    expect(interactionToJson(interaction)).toEqual({
      id: interaction.id,
      entityId: 'user:ada',
      valence: -0.5,
      note: '',
      trustBefore: 0.5,
      trustAfter: 0.45,
      createTime: '2026-01-02T03:04:05.678Z',
    });
    expect(recordInteractionResult({ entity, interaction })).toEqual({ entity: entityToJson(entity), interaction: interactionToJson(interaction) });
    expect(() => recordInteractionResult({ entity, interaction: undefined })).toThrow('lacks interaction');
  });

  it('takes the entity id from the path', () => {
    expect(upsertEntityRequest('user:ada', { name: 'Ada' })).toEqual({ id: 'user:ada', name: 'Ada' });
    expect(recordInteractionRequest('user:ada', { valence: 1 })).toEqual({ entityId: 'user:ada', valence: 1, note: '' });
    expect(recordInteractionRequest('user:ada', { valence: -1, note: 'rude' }).note).toBe('rude');
  });
});
