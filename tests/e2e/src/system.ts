import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestSchema, uniqueName, type TestSchema } from '@jamey/data/testing';
import { ensureDevSigningKey, generateServiceKeyring, mintDevToken, SCOPE_NAMES, SERVICE_KEY_ENV } from '@jamey/security';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { fastAlertRulesFile } from './alerts.js';
import { freePort, startProcess, type ServiceProcess } from './processes.js';

/** A running Jamey, reachable through its gateway. */
export interface JameySystem {
  readonly mode: 'real' | 'embedded';
  readonly gatewayUrl: string;
  /**
   * `Bearer <token>` for the gateway, with every scope (subject `e2e`), valid for an hour: from
   * the test's own identity provider key in real mode, from the development key when embedded.
   */
  readonly authorization: string;
  /** The telemetry service's status page. */
  readonly statusUrl: string;
  /** SIGKILLs the process that runs audit (the audit service, or the whole embedded host). */
  killAudit(): Promise<void>;
  /** Starts it again with the same data and ports, and waits until it is ready. */
  restartAudit(): Promise<void>;
  /** Real mode only: SIGKILLs one service's process. */
  killService(name: GrpcService): Promise<void>;
  /** Real mode only: starts a killed service again on the same ports and data, and waits until ready. */
  restartService(name: GrpcService): Promise<void>;
  /** Stops everything gracefully and checks every process exited 0. */
  stop(): Promise<void>;
  /** Recent output of every process, for failure messages. */
  output(): string;
  /** The admin server (`/healthz`, `/readyz`, `/metrics`) of one service, or of the gateway. */
  adminUrl(name: GrpcService | 'gateway'): string;
}

const GRPC_SERVICES = ['memory', 'soul', 'consciousness', 'audit', 'telemetry'] as const;
export type GrpcService = (typeof GRPC_SERVICES)[number];

async function allocatePorts(): Promise<Record<GrpcService | 'gateway', { main: number; admin: number }> & { status: number }> {
  const entries = await Promise.all(
    [...GRPC_SERVICES, 'gateway' as const].map(async (name) => [name, { main: await freePort(), admin: await freePort() }] as const),
  );
  return { ...(Object.fromEntries(entries) as Record<GrpcService | 'gateway', { main: number; admin: number }>), status: await freePort() };
}

function portEnv(ports: Awaited<ReturnType<typeof allocatePorts>>): Record<string, string> {
  const { status, ...services } = ports;
  const env: Record<string, string> = {
    JAMEY_BIND_HOST: '127.0.0.1',
    TELEMETRY_STATUS_PORT: String(status),
    TELEMETRY_STATUS_URL: `http://127.0.0.1:${status}/`,
  };
  for (const [name, { main, admin }] of Object.entries(services)) {
    const prefix = name.toUpperCase();
    env[`${prefix}_PORT`] = String(main);
    env[`${prefix}_ADMIN_PORT`] = String(admin);
    if (name !== 'gateway') env[`${prefix}_ADDRESS`] = `127.0.0.1:${main}`;
    // Where telemetry scrapes each service's /metrics (GATEWAY_ADMIN_URL for the gateway).
    if (name !== 'gateway') env[`${prefix}_ADMIN_URL`] = `http://127.0.0.1:${admin}`;
  }
  env['GATEWAY_ADMIN_URL'] = `http://127.0.0.1:${ports.gateway.admin}`;
  // The load and chaos tests send far more than a client may; the rate limit has its own tests.
  env['JAMEY_RATE_LIMIT_MAX'] = '1000000';
  return env;
}

/**
 * Writes a fresh service-token key pair per service and the shared public key set into a
 * temporary folder, the way Kubernetes mounts them, and returns each process's `_FILE`
 * variables and a function that removes the folder.
 */
async function serviceKeyFiles(): Promise<{ dir: string; envFor(name: GrpcService | 'gateway'): Record<string, string>; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'jamey-e2e-keys-'));
  const keyring = await generateServiceKeyring();
  const publicKeys = join(dir, 'service-keys.jwks.json');
  writeFileSync(publicKeys, JSON.stringify(keyring.publicJwks), { mode: 0o600 });
  for (const [name, jwk] of Object.entries(keyring.privateJwks)) writeFileSync(join(dir, `${name}.private.jwk`), JSON.stringify(jwk), { mode: 0o600 });
  return {
    dir,
    envFor: (name) => ({
      [`${SERVICE_KEY_ENV.signingKey}_FILE`]: join(dir, `${name}.private.jwk`),
      [`${SERVICE_KEY_ENV.publicKeys}_FILE`]: publicKeys,
    }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The issuer of the user tokens the real-mode gateway trusts: the test plays the identity provider. */
const E2E_ISSUER = 'https://idp.e2e.jamey.test/';

/**
 * The identity provider of a real-mode run: a fresh ES256 key, its public JWKS written to
 * `dir` for the gateway (GATEWAY_AUTH_KEY_FILE, as a mounted Secret would be), and a token
 * signed with it, as an identity provider issues them.
 */
async function userTokenKeys(dir: string): Promise<{ gatewayEnv: Record<string, string>; authorization: string }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = 'e2e-user-tokens-1';
  const file = join(dir, 'user-token-keys.jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] }), { mode: 0o600 });
  const token = await new SignJWT({ scope: SCOPE_NAMES.join(' ') })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
    .setIssuer(E2E_ISSUER)
    .setAudience('jamey-api')
    .setSubject('e2e')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
  return {
    gatewayEnv: { GATEWAY_AUTH_ISSUER: E2E_ISSUER, GATEWAY_AUTH_AUDIENCE: 'jamey-api', GATEWAY_AUTH_KEY_FILE: file, GATEWAY_AUTH_KEY_ALGORITHM: 'ES256' },
    authorization: `Bearer ${token}`,
  };
}

/**
 * Starts the six services as separate processes on real Postgres and Kafka. Each service gets
 * its own fresh schema in its own database, and audit a fresh consumer group, so runs never
 * see each other's data.
 */
export async function startRealSystem(infra: Record<string, string>): Promise<JameySystem> {
  const ports = await allocatePorts();
  const schemas: TestSchema[] = [];
  const env: Record<string, string> = {
    ...portEnv(ports),
    KAFKA_BROKERS: infra['KAFKA_BROKERS']!,
    AUDIT_CONSUMER_GROUP: uniqueName('audit_e2e'),
    // Telemetry polls twice a second, with the shipped alert rules made instant (alerts.ts).
    TELEMETRY_POLL_INTERVAL_MS: '500',
    TELEMETRY_ALERT_RULES_FILE: fastAlertRulesFile(),
    // Memory's cache and the gateway's rate limit share Redis. A short L1 life makes memory
    // reads reach L2 often, so the Redis outage test sees L2 in use before and after.
    REDIS_URL: infra['REDIS_URL']!,
    MEMORY_CACHE_L1_TTL_MS: '1000',
    // The audit log signs its tree heads with a key made for this run.
    AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    AUDIT_TREE_HEAD_INTERVAL_MS: '1000',
  };
  // The gateway's database holds the outbox of its access records.
  for (const name of [...GRPC_SERVICES, 'gateway'] as const) {
    const schema = await createTestSchema(infra[`${name.toUpperCase()}_DATABASE_URL`]!, `e2e_${name}`);
    schemas.push(schema);
    env[`${name.toUpperCase()}_DATABASE_URL`] = schema.url;
  }
  // Every gRPC call carries a service token signed with the caller's own key.
  const keys = await serviceKeyFiles();
  const users = await userTokenKeys(keys.dir);
  const processes = new Map<string, ServiceProcess>();
  // Every process ever started, restarted ones included, so output() shows what killed ones said.
  const history: ServiceProcess[] = [];
  // Audit's consumer group is new each run, and a new group would read every topic from the
  // beginning: every event of every earlier run on this broker, a backlog that only grows. Its
  // first start begins at this run instead; restarts resume from the committed offsets, which
  // is what the crash test checks.
  const runStart = new Date(Date.now() - 5000).toISOString();
  let auditStarts = 0;
  const start = async (name: GrpcService | 'gateway'): Promise<void> => {
    const script = name === 'gateway' ? 'apps/gateway/dist/main.js' : `apps/${name}/dist/main.js`;
    const own = {
      ...keys.envFor(name),
      ...(name === 'gateway' ? users.gatewayEnv : {}),
      ...(name === 'audit' && auditStarts++ === 0 ? { AUDIT_REPLAY_FROM: runStart } : {}),
    };
    const started = await startProcess(name, script, { ...env, ...own }, `http://127.0.0.1:${ports[name].admin}/readyz`);
    processes.set(name, started);
    history.push(started);
  };
  try {
    // Audit first, so its consumer group exists before anything publishes; callees before callers.
    for (const name of ['audit', 'memory', 'soul', 'consciousness', 'telemetry', 'gateway'] as const) await start(name);
  } catch (error) {
    await Promise.all([...processes.values()].map((p) => p.stop('SIGKILL')));
    await Promise.all(schemas.map((s) => s.drop()));
    keys.remove();
    throw error;
  }
  return {
    mode: 'real',
    gatewayUrl: `http://127.0.0.1:${ports.gateway.main}`,
    authorization: users.authorization,
    adminUrl: (name) => `http://127.0.0.1:${ports[name].admin}`,
    statusUrl: `http://127.0.0.1:${ports.status}/`,
    async killAudit() {
      await processes.get('audit')!.stop('SIGKILL');
    },
    async restartAudit() {
      await start('audit');
    },
    async killService(name) {
      await processes.get(name)!.stop('SIGKILL');
    },
    async restartService(name) {
      await start(name);
    },
    async stop() {
      const codes: string[] = [];
      for (const name of ['gateway', 'telemetry', 'consciousness', 'soul', 'memory', 'audit']) {
        const exit = await processes.get(name)!.stop('SIGTERM');
        if (exit.code !== 0) codes.push(`${name} exited with ${exit.code ?? exit.signal}`);
      }
      await Promise.all(schemas.map((s) => s.drop()));
      keys.remove();
      if (codes.length > 0) throw new Error(`unclean shutdown: ${codes.join(', ')}`);
    },
    output: () => history.map((p) => `--- ${p.name} ---\n${p.output()}`).join('\n'),
  };
}

/**
 * Starts the embedded host (`npm start`'s process) on PGlite under a temporary data folder.
 * `extraEnv` adds or overrides variables (for example a higher rate limit for the fuzzer).
 */
export async function startEmbeddedSystem(extraEnv: Record<string, string> = {}): Promise<JameySystem> {
  const ports = await allocatePorts();
  const dataDir = mkdtempSync(join(tmpdir(), 'jamey-e2e-'));
  // Embedded means PGlite and no Redis or Kafka, even when this shell has the infrastructure's
  // variables (an empty value counts as unset).
  const unset = Object.fromEntries(
    [...[...GRPC_SERVICES, 'gateway'].map((name) => `${name.toUpperCase()}_DATABASE_URL`), 'KAFKA_BROKERS', 'REDIS_URL'].map((name) => [name, '']),
  );
  const env = { ...portEnv(ports), ...unset, JAMEY_DATA_DIR: dataDir, ...extraEnv };
  const readyUrl = `http://127.0.0.1:${ports.gateway.admin}/readyz`;
  let host = await startProcess('jamey', 'apps/jamey/dist/main.js', env, readyUrl, 120_000);
  // What `npm run token` does: a token from the host's development key under the data folder.
  const token = await mintDevToken(await ensureDevSigningKey(dataDir), { scopes: SCOPE_NAMES, subject: 'e2e' });
  return {
    mode: 'embedded',
    gatewayUrl: `http://127.0.0.1:${ports.gateway.main}`,
    authorization: `Bearer ${token}`,
    adminUrl: (name) => `http://127.0.0.1:${ports[name].admin}`,
    statusUrl: `http://127.0.0.1:${ports.status}/`,
    async killAudit() {
      await host.stop('SIGKILL');
    },
    async restartAudit() {
      host = await startProcess('jamey', 'apps/jamey/dist/main.js', env, readyUrl, 120_000);
    },
    killService() {
      return Promise.reject(new Error('the embedded host runs every service in one process'));
    },
    restartService() {
      return Promise.reject(new Error('the embedded host runs every service in one process'));
    },
    async stop() {
      const exit = await host.stop('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
      if (exit.code !== 0) throw new Error(`embedded host exited with ${exit.code ?? exit.signal}`);
    },
    output: () => host.output(),
  };
}
