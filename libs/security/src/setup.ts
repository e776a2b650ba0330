import type { Clock } from '@jamey/core';
import type { GrpcServiceName, ServiceName } from '@jamey/topology';
import { ensureDevSigningKey } from './dev-keys.js';
import { createHs256Keys, createJwksUrlKeys, createKeySetKeys, createStaticKeys, type AsymmetricAlgorithm, type KeyConfigError, type VerificationKeys } from './keys.js';
import { assertNoDevKeysOutsideEmbedded, type RuntimeMode } from './mode.js';
import { createFileSecretSource, secretSourceFromEnv, type SecretSource, type SecretUnavailableError } from './secret.js';
import { createSigningKeySource, createStaticSigningKey, type ServiceKeyring } from './service-keys.js';
import { createServiceTokenMinter, createServiceTokenVerifier, type ServiceTokenMinter, type ServiceTokenVerifier } from './service-tokens.js';
import { createUserTokenVerifier, type UserTokenVerifier } from './user-tokens.js';

/** How the gateway checks user tokens: one key source, plus the claims it requires. */
export interface UserAuthSettings {
  readonly issuer: string | readonly string[];
  readonly audience: string | readonly string[];
  /** The identity provider's JWKS URL. */
  readonly jwksUrl?: string;
  /** A file holding a PEM public key or certificate, a JWK or a JWKS; re-read every second. */
  readonly keyFile?: string;
  /** The algorithm of a PEM key file (and of JWKs without `alg`). */
  readonly keyAlgorithm?: AsymmetricAlgorithm;
  /** Development only (embedded mode): an HS256 shared secret. */
  readonly hs256Secret?: SecretSource;
  /** Development only (embedded mode): the development key under the data directory. */
  readonly devKey?: boolean;
  /** Seconds of slack on `exp`/`nbf`/`iat`. Default 30. */
  readonly clockToleranceSec?: number;
  /** Default 8192. */
  readonly maxTokenBytes?: number;
}

/** What {@link createUserAuth} needs from its caller. */
export interface UserAuthContext {
  readonly mode: RuntimeMode;
  /** Where the development key lives (`JAMEY_DATA_DIR`); needed with `devKey`. */
  readonly dataDir?: string;
  readonly clock?: Clock;
  /** Hears about rotated key files that could not be used (the previous keys stay in force). */
  readonly onKeyError?: (error: KeyConfigError | SecretUnavailableError) => void;
}

/**
 * Builds the gateway's user token verifier from its settings, at startup:
 * - refuses development keys outside embedded mode ({@link assertNoDevKeysOutsideEmbedded});
 * - requires exactly one key source;
 * - loads local keys now, so a broken key file fails the start rather than the first request
 *   (a JWKS URL is fetched on first use: the provider may be briefly down while we start).
 * @throws {Error} listing every problem.
 */
export async function createUserAuth(settings: UserAuthSettings, context: UserAuthContext): Promise<UserTokenVerifier> {
  assertNoDevKeysOutsideEmbedded(context.mode, settings);
  const chosen = [
    settings.jwksUrl !== undefined && 'a JWKS URL',
    settings.keyFile !== undefined && 'a key file',
    settings.hs256Secret !== undefined && 'an HS256 secret',
    settings.devKey === true && 'the development key',
  ].filter((choice): choice is string => choice !== false);
  if (chosen.length !== 1) {
    throw new Error(`user tokens need exactly one key source (a JWKS URL, a key file${context.mode === 'embedded' ? ', an HS256 secret or the development key' : ''}); got ${chosen.length === 0 ? 'none' : chosen.join(', ')}`);
  }
  let keys: VerificationKeys;
  if (settings.jwksUrl !== undefined) keys = createJwksUrlKeys({ url: settings.jwksUrl });
  else if (settings.keyFile !== undefined) {
    const source = createFileSecretSource(settings.keyFile, { ...(context.clock ? { clock: context.clock } : {}), ...(context.onKeyError ? { onError: context.onKeyError } : {}) });
    keys = createKeySetKeys({ source, ...(settings.keyAlgorithm ? { algorithm: settings.keyAlgorithm } : {}), ...(context.onKeyError ? { onError: context.onKeyError } : {}) });
    await keys.current();
  } else if (settings.hs256Secret !== undefined) {
    keys = createHs256Keys(settings.hs256Secret);
    await keys.current();
  } else {
    if (context.dataDir === undefined) throw new Error('the development key needs the data directory');
    keys = await createStaticKeys((await ensureDevSigningKey(context.dataDir)).publicJwks, 'the development key');
  }
  return createUserTokenVerifier({
    mode: context.mode,
    issuer: settings.issuer,
    audience: settings.audience,
    keys,
    ...(settings.clockToleranceSec === undefined ? {} : { clockToleranceSec: settings.clockToleranceSec }),
    ...(settings.maxTokenBytes === undefined ? {} : { maxTokenBytes: settings.maxTokenBytes }),
    ...(context.clock ? { clock: context.clock } : {}),
  });
}

/** Service-token key material of one service: its private key and everyone's public keys. */
export type ServiceKeySettings =
  | {
      /** The service's private Ed25519 JWK (a mounted Secret; rotatable). */
      readonly signingKey: SecretSource;
      /** The JWKS of every service's public keys (current and previous during rotation). */
      readonly publicKeys: SecretSource;
    }
  /** Embedded mode and tests: keys generated in memory by `generateServiceKeyring`. */
  | { readonly keyring: ServiceKeyring };

/** Both halves of service-to-service authentication for one service. */
export interface ServiceAuth {
  /** For outgoing calls (the gRPC client interceptor). */
  readonly minter: ServiceTokenMinter;
  /** For incoming calls (the gRPC server interceptor); undefined for the gateway, which serves no gRPC. */
  readonly verifier: ServiceTokenVerifier | undefined;
}

/**
 * Builds a service's minter and verifier, loading the keys now so a broken key fails the start.
 * @throws {KeyConfigError | SecretUnavailableError} naming the source, never key material.
 */
export async function createServiceAuth(
  self: ServiceName,
  settings: ServiceKeySettings,
  options: { readonly clock?: Clock; readonly onKeyError?: (error: KeyConfigError) => void } = {},
): Promise<ServiceAuth> {
  const clock = options.clock ? { clock: options.clock } : {};
  const onError = options.onKeyError ? { onError: options.onKeyError } : {};
  let signingKey;
  let keys: VerificationKeys;
  if ('keyring' in settings) {
    signingKey = await createStaticSigningKey(settings.keyring.privateJwks[self], self);
    keys = await createStaticKeys(settings.keyring.publicJwks, 'the in-memory service keys');
  } else {
    signingKey = createSigningKeySource({ service: self, source: settings.signingKey, ...onError });
    keys = createKeySetKeys({ source: settings.publicKeys, algorithms: ['EdDSA'], ...onError });
    await signingKey.current();
    await keys.current();
  }
  return {
    minter: createServiceTokenMinter({ self, signingKey, ...clock }),
    verifier: self === 'gateway' ? undefined : createServiceTokenVerifier({ self: self as GrpcServiceName, keys, ...clock }),
  };
}

/** The variables {@link serviceKeySettingsFromEnv} reads (each also as `<name>_FILE`). */
export const SERVICE_KEY_ENV = Object.freeze({ signingKey: 'JAMEY_SERVICE_SIGNING_KEY', publicKeys: 'JAMEY_SERVICE_PUBLIC_KEYS' });

/**
 * A service's key sources from its environment: `JAMEY_SERVICE_SIGNING_KEY_FILE` (or
 * `JAMEY_SERVICE_SIGNING_KEY`), its private Ed25519 JWK, and `JAMEY_SERVICE_PUBLIC_KEYS_FILE`
 * (or `JAMEY_SERVICE_PUBLIC_KEYS`), the JWKS of every service. Files are re-read as they
 * change, so mounted Secrets rotate without a restart.
 * @throws {Error} naming every missing variable: a service never runs without service tokens.
 */
export function serviceKeySettingsFromEnv(self: ServiceName, env: Readonly<Record<string, string | undefined>>): ServiceKeySettings {
  const signingKey = secretSourceFromEnv(env, SERVICE_KEY_ENV.signingKey);
  const publicKeys = secretSourceFromEnv(env, SERVICE_KEY_ENV.publicKeys);
  const missing = [
    signingKey === undefined && `${SERVICE_KEY_ENV.signingKey}_FILE (or ${SERVICE_KEY_ENV.signingKey}): the private key ${self} signs its service tokens with`,
    publicKeys === undefined && `${SERVICE_KEY_ENV.publicKeys}_FILE (or ${SERVICE_KEY_ENV.publicKeys}): the public keys of every service`,
  ].filter((problem): problem is string => problem !== false);
  if (missing.length > 0) {
    throw new Error(`${self} needs its service token keys (generate them with \`npm run service-key\`); missing ${missing.join('; ')}`);
  }
  return { signingKey: signingKey!, publicKeys: publicKeys! };
}
