export { AUTH_ERROR_REASONS, type AuthErrorReason, AuthError, isAuthError, bearerChallenge } from './errors.js';
export {
  Secret,
  type SecretSource,
  SecretUnavailableError,
  type FileSecretOptions,
  createFileSecretSource,
  createStaticSecretSource,
  secretSourceFromEnv,
} from './secret.js';
export { SCOPES, type Scope, SCOPE_NAMES, isScope, scopesFromClaims, type ScopeHolder, requireScopes, parseScopeList } from './scopes.js';
export {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  DEV_KEY_ID_PREFIX,
  type KeyResolver,
  type VerificationKeys,
  KeyConfigError,
  type JwksUrlKeysOptions,
  createJwksUrlKeys,
  type KeySetKeysOptions,
  createKeySetKeys,
  createStaticKeys,
  createHs256Keys,
} from './keys.js';
export { RUNTIME_MODES, type RuntimeMode, DEV_ISSUER, DEV_AUDIENCE, DevelopmentKeyError, type DevKeyIndicators, assertNoDevKeysOutsideEmbedded } from './mode.js';
export {
  DEFAULT_MAX_TOKEN_BYTES,
  type Principal,
  type UserTokenVerifierOptions,
  type UserTokenVerifier,
  createUserTokenVerifier,
  extractBearerToken,
} from './user-tokens.js';
export { type DevSigningKey, devKeyPath, ensureDevSigningKey, type DevTokenClaims, mintDevToken } from './dev-keys.js';
export {
  SERVICE_TOKEN_ALGORITHM,
  ownerOfKey,
  type ServiceSigningKey,
  type SigningKeySource,
  type SigningKeySourceOptions,
  createSigningKeySource,
  createStaticSigningKey,
  generateServiceKey,
  type ServiceKeyring,
  generateServiceKeyring,
} from './service-keys.js';
export {
  SERVICE_TOKEN_TYPE,
  SERVICE_TOKEN_METADATA_KEY,
  type ServiceTokenMinterOptions,
  type ServiceTokenMinter,
  createServiceTokenMinter,
  type ServiceCaller,
  type ServiceTokenVerifierOptions,
  type ServiceTokenVerifier,
  createServiceTokenVerifier,
} from './service-tokens.js';
export {
  type UserAuthSettings,
  type UserAuthContext,
  createUserAuth,
  type ServiceKeySettings,
  type ServiceAuth,
  createServiceAuth,
  SERVICE_KEY_ENV,
  serviceKeySettingsFromEnv,
} from './setup.js';
