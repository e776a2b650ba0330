/**
 * How Jamey runs (ARCHITECTURE.md, runtime modes). Only `embedded` — one process on a
 * developer's machine — may use development keys. The mode comes from the entry point, not
 * from the environment: the embedded host passes `embedded`, every service's `main.ts` passes
 * `infrastructure` or `kubernetes`.
 */
export const RUNTIME_MODES = ['embedded', 'infrastructure', 'kubernetes'] as const;
export type RuntimeMode = (typeof RUNTIME_MODES)[number];

/** The issuer of development tokens (`npm run token`). Refused outside embedded mode. */
export const DEV_ISSUER = 'urn:jamey:dev';

/** The audience development tokens name, and the gateway's default audience in embedded mode. */
export const DEV_AUDIENCE = 'jamey-api';

/** A development key or setting was found outside embedded mode. Lists every finding. */
export class DevelopmentKeyError extends Error {
  override readonly name = 'DevelopmentKeyError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Development keys are refused outside embedded mode:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** The parts of the user-token settings that can mark development. */
export interface DevKeyIndicators {
  /** The accepted issuer(s); the development issuer is refused. */
  readonly issuer?: string | readonly string[];
  /** An HS256 secret is configured. */
  readonly hs256Secret?: unknown;
  /** The embedded development key is in use. */
  readonly devKey?: boolean;
}

/**
 * Refuses, at startup, development keys in any mode but `embedded`: an HS256 secret, the
 * embedded development key, or the development issuer.
 * @throws {DevelopmentKeyError} listing every finding at once.
 */
export function assertNoDevKeysOutsideEmbedded(mode: RuntimeMode, settings: DevKeyIndicators): void {
  if (!(RUNTIME_MODES as readonly string[]).includes(mode)) throw new DevelopmentKeyError([`unknown runtime mode ${String(mode)}`]);
  if (mode === 'embedded') return;
  const problems: string[] = [];
  if (settings.hs256Secret !== undefined) problems.push(`an HS256 secret is configured (mode ${mode})`);
  if (settings.devKey === true) problems.push(`the embedded development key is configured (mode ${mode})`);
  if ([settings.issuer ?? []].flat().includes(DEV_ISSUER)) problems.push(`the development issuer ${DEV_ISSUER} is accepted (mode ${mode})`);
  if (problems.length > 0) throw new DevelopmentKeyError(problems);
}
