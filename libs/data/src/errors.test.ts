import { describe, expect, it } from 'vitest';
import { isConnectionFailure, translateDriverError } from './errors.js';

describe('isConnectionFailure', () => {
  it('recognizes network errors, connection SQLSTATEs and driver messages', () => {
    expect(isConnectionFailure(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionFailure(Object.assign(new Error('x'), { code: '08006' }))).toBe(true);
    expect(isConnectionFailure(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true);
    expect(isConnectionFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionFailure(new Error('PGlite is closed'))).toBe(true);
  });

  it('leaves statement errors alone, whatever their message', () => {
    const unique = Object.assign(new Error('connection terminated? no: duplicate key'), { code: '23505' });
    expect(isConnectionFailure(unique)).toBe(false);
    expect(translateDriverError(unique)).toBe(unique);
    expect(isConnectionFailure('nope')).toBe(false);
  });

  it('translates connection failures into DEPENDENCY_UNAVAILABLE with the cause', () => {
    const cause = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    expect(translateDriverError(cause)).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', cause });
  });
});
