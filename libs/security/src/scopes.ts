import { AuthError } from './errors.js';

/**
 * The closed set of scopes Jamey grants, with what each allows. `admin` guards operator
 * actions only: it does **not** imply the others (least privilege — an operator token that also
 * reads memories says so with `memory:read`, and the audit log shows exactly what it could do).
 */
export const SCOPES = {
  'memory:read': 'recall and read memories',
  'memory:write': 'store, change and forget memories',
  'consciousness:read': 'read the workspace, Φ and the state history',
  'consciousness:write': 'submit perceptions and thoughts',
  'soul:read': 'read emotions, entities and trust',
  'soul:write': 'record interactions and change trust',
  'audit:read': 'query the audit log and its proofs',
  admin: 'operator actions: degradation, replay, verification runs',
} as const;

export type Scope = keyof typeof SCOPES;

/** Every scope, in declaration order. */
export const SCOPE_NAMES: readonly Scope[] = Object.freeze(Object.keys(SCOPES) as Scope[]);

/** True when `value` names a Jamey scope. */
export function isScope(value: string): value is Scope {
  return Object.hasOwn(SCOPES, value);
}

/**
 * The Jamey scopes a token grants, from its `scope` claim (RFC 8693 §4.2: a space-separated
 * string) or, when that is absent, its `scp` claim (an array of strings, or a space-separated
 * string as some identity providers write it). Scopes Jamey does not know (`openid`, `profile`…)
 * are ignored.
 * @throws {AuthError} `invalid_claims` when a claim has the wrong type.
 */
export function scopesFromClaims(claims: Readonly<Record<string, unknown>>): ReadonlySet<Scope> {
  const raw = claims['scope'] !== undefined ? claims['scope'] : claims['scp'];
  let names: readonly unknown[];
  if (raw === undefined) names = [];
  else if (typeof raw === 'string') names = raw.split(' ');
  else if (Array.isArray(raw)) names = raw;
  else throw new AuthError('invalid_claims');
  const scopes = new Set<Scope>();
  for (const name of names) {
    if (typeof name !== 'string') throw new AuthError('invalid_claims');
    if (isScope(name)) scopes.add(name);
  }
  return scopes;
}

/** Anything that carries granted scopes: a user principal. */
export interface ScopeHolder {
  readonly scopes: ReadonlySet<Scope>;
}

/**
 * Checks that `holder` has every scope in `needed`.
 * @throws {AuthError} `insufficient_scope` (403) listing the missing scopes.
 */
export function requireScopes(holder: ScopeHolder, needed: readonly Scope[]): void {
  const missing = needed.filter((scope) => !holder.scopes.has(scope));
  if (missing.length > 0) throw new AuthError('insufficient_scope', missing);
}

/**
 * Parses a comma- or space-separated scope list, as the token command takes it.
 * @throws {Error} naming the unknown scopes and listing the valid ones.
 */
export function parseScopeList(text: string): Scope[] {
  const names = text.split(/[\s,]+/).filter((name) => name.length > 0);
  if (names.length === 0) throw new Error(`no scopes given; valid scopes: ${SCOPE_NAMES.join(', ')}`);
  const unknown = names.filter((name) => !isScope(name));
  if (unknown.length > 0) {
    throw new Error(`unknown scope${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; valid scopes: ${SCOPE_NAMES.join(', ')}`);
  }
  return [...new Set(names as Scope[])];
}
