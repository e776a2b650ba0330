import { consciousness as pb } from '@jamey/proto';
import { describe, expect, it } from 'vitest';
import { integrationToJson, perceiveRequest, perceiveResult, perceptionToJson, workspaceStateToJson } from './consciousness.js';

const perception: pb.Perception = {
  id: '0190a0b0-c0d0-7e00-8f00-0000000000aa',
  input: 'hello',
  source: 'chat',
  salience: 0.7,
  entityId: '',
  perceiveTime: new Date('2026-01-02T03:04:05.678Z'),
};

describe('consciousness mapping', () => {
  it('leaves out an empty entity id and writes the time in UTC', () => {
    expect(perceptionToJson(perception)).toEqual({
      id: perception.id,
      input: 'hello',
      source: 'chat',
      salience: 0.7,
      perceiveTime: '2026-01-02T03:04:05.678Z',
    });
    expect(perceptionToJson({ ...perception, entityId: 'user:ada' }).entityId).toBe('user:ada');
  });

  it('sends an empty entity id when none is named', () => {
    expect(perceiveRequest({ input: 'i', source: 's', salience: 0 })).toEqual({ input: 'i', source: 's', salience: 0, entityId: '' });
    expect(perceiveRequest({ input: 'i', source: 's', salience: 1, entityId: 'e' }).entityId).toBe('e');
  });

  it('maps a perceive response, renaming degraded dependencies to `degraded`', () => {
    const json = perceiveResult({
      perception,
      focus: perception,
      focusChanged: true,
      context: [{ memoryId: 'm', content: 'c', rank: 0.1 }],
      sourceTrust: 0,
      degradedDependencies: ['soul'],
    });
    expect(json).toEqual({
      perception: perceptionToJson(perception),
      focus: perceptionToJson(perception),
      focusChanged: true,
      context: [{ memoryId: 'm', content: 'c', rank: 0.1 }],
      sourceTrust: 0,
      degraded: ['soul'],
    });
  });

  it('leaves out trust and focus when absent', () => {
    const json = perceiveResult({ perception, focus: undefined, focusChanged: false, context: [], sourceTrust: undefined, degradedDependencies: [] });
    expect(json.focus).toBeUndefined();
    expect(json.sourceTrust).toBeUndefined();
    expect(() => perceiveResult({ perception: undefined, focusChanged: false, context: [], degradedDependencies: [] })).toThrow(
      'lacks perception',
    );
  });

  it('maps the workspace state, with no focus before the first perception', () => {
    expect(workspaceStateToJson({ state: { recent: [], version: 0, perceptionCount: 0 } })).toEqual({
      focus: undefined,
      recent: [],
      version: 0,
      perceptionCount: 0,
      updateTime: undefined,
    });
    const later = workspaceStateToJson({
      state: { focus: perception, recent: [perception], version: 7, perceptionCount: 3, updateTime: new Date(Date.UTC(2026, 0, 1)) },
    });
    expect(later).toMatchObject({ version: 7, perceptionCount: 3, updateTime: '2026-01-01T00:00:00.000Z' });
    expect(later.recent).toHaveLength(1);
    expect(() => workspaceStateToJson({ state: undefined })).toThrow('lacks state');
  });

  it('maps an integration estimate: gap only when Φ is not defined; an unknown gap or no integration is a contract break', () => {
    const integration: pb.Integration = {
      defined: false,
      phiBits: 0,
      elements: [],
      partitionA: [],
      partitionB: [],
      samplePairs: 0,
      gap: pb.IntegrationGap.INTEGRATION_GAP_TOO_FEW_SAMPLES,
      version: 3,
      historyLimit: 256,
    };
    expect(integrationToJson({ integration })).toEqual({
      defined: false,
      phiBits: 0,
      elements: [],
      partitionA: [],
      partitionB: [],
      samplePairs: 0,
      gap: 'too-few-samples',
      version: 3,
      historyLimit: 256,
    });
    const defined = integrationToJson({ integration: { ...integration, defined: true, phiBits: 1.5, gap: pb.IntegrationGap.INTEGRATION_GAP_UNSPECIFIED } });
    expect(defined.gap).toBeUndefined();
    expect(defined.phiBits).toBe(1.5);
    expect(() => integrationToJson({ integration: { ...integration, gap: 99 as pb.IntegrationGap } })).toThrow(/IntegrationGap value 99/);
    expect(() => integrationToJson({})).toThrow(/lacks integration/);
  });
});
