import { SERVICE_NAMES, type ServiceName } from '@jamey/topology';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import { KeyConfigError } from './keys.js';
import { Secret, type SecretSource } from './secret.js';

/**
 * Service keys are Ed25519, one key pair per service. A key's `kid` is `<service>/<key id>`:
 * the part before the slash names the only service that may sign with it, so a service cannot
 * present a token in another's name even though every service trusts the same public key set.
 */
export const SERVICE_TOKEN_ALGORITHM = 'EdDSA';

/** The service that owns key `kid`, or undefined when the kid does not follow `<service>/<id>`. */
export function ownerOfKey(kid: string | undefined): ServiceName | undefined {
  const owner = kid?.split('/', 1)[0];
  return owner !== undefined && kid!.length > owner.length + 1 && (SERVICE_NAMES as readonly string[]).includes(owner)
    ? (owner as ServiceName)
    : undefined;
}

/** The key a service signs its tokens with now. */
export interface ServiceSigningKey {
  readonly kid: string;
  readonly key: CryptoKey;
}

/** Where a service's signing key comes from; may change (rotation). */
export interface SigningKeySource {
  readonly description: string;
  current(): Promise<ServiceSigningKey>;
}

/** Options of {@link createSigningKeySource}. */
export interface SigningKeySourceOptions {
  /** The service whose key this is: the key's kid must be `<service>/…`. */
  readonly service: ServiceName;
  /** The file or variable holding the private Ed25519 JWK. */
  readonly source: SecretSource;
  /** Hears about a changed key that could not be used; the previous one stays in force. */
  readonly onError?: (error: KeyConfigError) => void;
}

/**
 * A service's signing key: a private Ed25519 JWK (`kty` OKP, `crv` Ed25519, `d`, `x`, `kid`),
 * re-read as its source changes. Rotate by publishing the new public key in every service's
 * verification set first, then replacing this file; tokens minted afterwards use the new kid.
 */
export function createSigningKeySource(options: SigningKeySourceOptions): SigningKeySource {
  let parsedFrom: Secret | undefined;
  let current: ServiceSigningKey | undefined;
  const description = options.source.description;
  return {
    description,
    current: async () => {
      const secret = await options.source.read();
      if (current !== undefined && parsedFrom !== undefined && secret.equals(parsedFrom)) return current;
      try {
        current = await parseSigningKey(secret.reveal(), options.service, description);
      } catch (error) {
        const problem = error instanceof KeyConfigError ? error : new KeyConfigError(`${description}: unusable signing key`);
        if (current === undefined) throw problem;
        options.onError?.(problem);
      }
      parsedFrom = secret;
      return current;
    },
  };
}

/** A signing key fixed in memory (embedded mode and tests). */
export async function createStaticSigningKey(privateJwk: JWK, service: ServiceName): Promise<SigningKeySource> {
  const key = await parseSigningKey(JSON.stringify(privateJwk), service, `the ${service} signing key`);
  return { description: `in-memory key ${key.kid}`, current: () => Promise.resolve(key) };
}

async function parseSigningKey(text: string, service: ServiceName, description: string): Promise<ServiceSigningKey> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw new KeyConfigError(`${description}: not a JSON Web Key`);
  }
  if (jwk === null || typeof jwk !== 'object' || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') {
    throw new KeyConfigError(`${description}: not a private Ed25519 JWK`);
  }
  if (ownerOfKey(jwk.kid) !== service) {
    throw new KeyConfigError(`${description}: kid ${String(jwk.kid)} must be ${service}/<key id>`);
  }
  if (jwk.alg !== undefined && jwk.alg !== SERVICE_TOKEN_ALGORITHM) throw new KeyConfigError(`${description}: alg must be EdDSA`);
  try {
    return Object.freeze({ kid: jwk.kid!, key: (await importJWK({ ...jwk, alg: SERVICE_TOKEN_ALGORITHM }, SERVICE_TOKEN_ALGORITHM)) as CryptoKey });
  } catch {
    throw new KeyConfigError(`${description}: not a valid Ed25519 key`);
  }
}

/** A new service key pair: the private JWK for the service, the public JWK for everyone's key set. */
export async function generateServiceKey(service: ServiceName, keyId: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  if (!/^[A-Za-z0-9._-]+$/.test(keyId)) throw new Error(`key id ${keyId} may only hold letters, digits, '.', '_' and '-'`);
  const { privateKey } = await generateKeyPair(SERVICE_TOKEN_ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const common = { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: `${service}/${keyId}`, alg: SERVICE_TOKEN_ALGORITHM, use: 'sig' };
  return { privateJwk: { ...common, d: jwk.d }, publicJwk: common };
}

/** One key pair per service and the public key set holding them all: embedded mode and tests. */
export interface ServiceKeyring {
  readonly privateJwks: Readonly<Record<ServiceName, JWK>>;
  readonly publicJwks: JSONWebKeySet;
}

/** Generates a {@link ServiceKeyring} in memory for `services` (default all), kids `<service>/<keyId>`. */
export async function generateServiceKeyring(services: readonly ServiceName[] = SERVICE_NAMES, keyId = 'k1'): Promise<ServiceKeyring> {
  const pairs = await Promise.all(services.map(async (service) => [service, await generateServiceKey(service, keyId)] as const));
  return {
    privateJwks: Object.fromEntries(pairs.map(([service, pair]) => [service, pair.privateJwk])) as Record<ServiceName, JWK>,
    publicJwks: { keys: pairs.map(([, pair]) => pair.publicJwk) },
  };
}
