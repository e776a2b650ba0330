import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';

/** A signing key pair for tests, with its public JWK (kid and alg set) and SPKI PEM. */
export interface TestKey {
  readonly alg: 'RS256' | 'ES256' | 'EdDSA';
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly publicPem: string;
}

export async function createTestKey(alg: TestKey['alg'], kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, publicPem: await exportSPKI(publicKey) };
}

export function jwksOf(...keys: TestKey[]): JSONWebKeySet {
  return { keys: keys.map((key) => key.publicJwk) };
}

/** Seconds since the epoch of a millisecond time. */
export const seconds = (ms: number): number => Math.floor(ms / 1000);

/** Signs `payload` with `key`; `header` adds to or overrides the protected header. */
export function signWith(key: TestKey, payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

/** An unsecured JWT (`alg: none`, empty signature), as an attacker writes it. */
export function unsecuredToken(payload: JWTPayload, header: Record<string, unknown> = { alg: 'none' }): string {
  return `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.`;
}

/** Replaces the payload of `token` with `payload`, keeping header and signature. */
export function withPayload(token: string, payload: JWTPayload): string {
  const [header, , signature] = token.split('.');
  return `${header}.${base64url.encode(JSON.stringify(payload))}.${signature}`;
}

/** The payload of `token`, decoded without verification. */
export function payloadOf(token: string): JWTPayload {
  return JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!))) as JWTPayload;
}

/** A real HTTP server publishing a JWKS that a test can change, counting fetches. */
export interface JwksServer {
  readonly url: string;
  /** Fetches served so far. */
  readonly fetches: number;
  /** Replaces the published key set. */
  publish(jwks: JSONWebKeySet): void;
  /** Answers every request with this status instead (e.g. 500), or undefined to serve again. */
  failWith(status: number | undefined): void;
  close(): Promise<void>;
}

export async function startJwksServer(initial: JSONWebKeySet): Promise<JwksServer> {
  let jwks = initial;
  let fetches = 0;
  let failure: number | undefined;
  const server: Server = createServer((request, response) => {
    fetches += 1;
    if (failure !== undefined || request.url !== '/.well-known/jwks.json') {
      response.writeHead(failure ?? 404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get fetches() {
      return fetches;
    },
    publish: (next) => {
      jwks = next;
    },
    failWith: (status) => {
      failure = status;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
