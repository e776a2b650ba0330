import { describe, expect, it } from 'vitest';
import { AuthError } from './errors.js';
import { parseScopeList, requireScopes, SCOPE_NAMES, scopesFromClaims } from './scopes.js';

describe('scopes', () => {
  it('are the closed set of the issue, admin included', () => {
    expect([...SCOPE_NAMES].sort()).toEqual(
      ['admin', 'audit:read', 'consciousness:read', 'consciousness:write', 'memory:read', 'memory:write', 'soul:read', 'soul:write'].sort(),
    );
  });

  it('come from a space-separated scope claim, or an scp array or string, ignoring scopes Jamey does not know', () => {
    expect(scopesFromClaims({ scope: 'openid memory:read  soul:write' })).toEqual(new Set(['memory:read', 'soul:write']));
    expect(scopesFromClaims({ scp: ['audit:read', 'profile'] })).toEqual(new Set(['audit:read']));
    expect(scopesFromClaims({ scp: 'admin memory:write' })).toEqual(new Set(['admin', 'memory:write']));
    expect(scopesFromClaims({ scope: 'memory:read', scp: ['admin'] })).toEqual(new Set(['memory:read']));
    expect(scopesFromClaims({})).toEqual(new Set());
  });

  it('refuse a claim of the wrong type as invalid_claims (401)', () => {
    for (const claims of [{ scope: 42 }, { scp: { admin: true } }, { scp: ['memory:read', 7] }]) {
      expect(() => scopesFromClaims(claims)).toThrow(expect.objectContaining({ reason: 'invalid_claims', code: 'UNAUTHENTICATED' }));
    }
  });

  it('admin does not imply the other scopes (least privilege)', () => {
    expect(() => requireScopes({ scopes: new Set(['admin']) }, ['memory:read'])).toThrow(AuthError);
    expect(() => requireScopes({ scopes: new Set(['admin']) }, ['admin'])).not.toThrow();
    expect(() => requireScopes({ scopes: new Set() }, [])).not.toThrow();
  });

  it('parse from the command line with commas or spaces, naming unknown ones and listing the valid ones', () => {
    expect(parseScopeList('memory:read,memory:write memory:read')).toEqual(['memory:read', 'memory:write']);
    expect(() => parseScopeList('memory:read,memory:delete')).toThrow(
      'unknown scope memory:delete; valid scopes: memory:read, memory:write, consciousness:read, consciousness:write, soul:read, soul:write, audit:read, admin',
    );
    expect(() => parseScopeList(' , ')).toThrow(/no scopes given/);
  });
});
