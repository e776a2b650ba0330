import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { SERVICE_NAMES, type ServiceName } from '@jamey/topology';
import type { JSONWebKeySet } from 'jose';
import { generateServiceKey } from '../service-keys.js';
import type { CommandOutput } from './token-command.js';

const USAGE = `Generates a service-token key pair (Ed25519) for one service.

Usage: npm run -s service-key -- --service <name> --key-id <id> --out <dir> [--jwks <file>]

  --service  one of ${SERVICE_NAMES.join(', ')}
  --key-id   the key's id within the service, e.g. 2026-01 (the kid becomes <service>/<id>)
  --out      directory for <service>.<id>.private.jwk (mode 0600, never overwritten)
  --jwks     a JWKS file to add the public key to (created when absent): every service's
             public key set

Mount the private key as the service's signing key and the JWKS in every service.
See docs/security.md, "Keys and rotation".
`;

/** Runs the service-key command; returns the exit code (0 ok, 2 bad arguments, 1 other failure). */
export async function runServiceKeyCommand(argv: readonly string[], output: CommandOutput): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        service: { type: 'string' },
        'key-id': { type: 'string' },
        out: { type: 'string' },
        jwks: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    output.stderr.write(`service-key: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    output.stdout.write(USAGE);
    return 0;
  }
  const problems: string[] = [];
  if (values.service === undefined || !(SERVICE_NAMES as readonly string[]).includes(values.service)) {
    problems.push(`--service must be one of ${SERVICE_NAMES.join(', ')}`);
  }
  if (values['key-id'] === undefined || !/^[A-Za-z0-9._-]{1,64}$/.test(values['key-id'])) {
    problems.push("--key-id must be 1 to 64 letters, digits, '.', '_' or '-'");
  }
  if (values.out === undefined) problems.push('--out is required');
  if (problems.length > 0) {
    output.stderr.write(`${problems.map((p) => `service-key: ${p}`).join('\n')}\n\n${USAGE}`);
    return 2;
  }
  const service = values.service as ServiceName;
  const keyId = values['key-id']!;
  try {
    const { privateJwk, publicJwk } = await generateServiceKey(service, keyId);
    const privatePath = join(values.out!, `${service}.${keyId}.private.jwk`);
    // Created when missing, readable by the owner only: it holds private keys.
    await mkdir(values.out!, { recursive: true, mode: 0o700 });
    await writeFile(privatePath, `${JSON.stringify(privateJwk)}\n`, { mode: 0o600, flag: 'wx' });
    output.stdout.write(`private key: ${privatePath}\n`);
    if (values.jwks !== undefined) {
      await mkdir(dirname(values.jwks), { recursive: true, mode: 0o700 });
      const jwks = await readJwks(values.jwks);
      if (jwks.keys.some((key) => key.kid === publicJwk.kid)) throw new Error(`${values.jwks} already holds ${publicJwk.kid}`);
      jwks.keys.push(publicJwk);
      // Written beside and renamed over, so a reader never sees half a file.
      await writeFile(`${values.jwks}.tmp`, `${JSON.stringify(jwks, null, 2)}\n`);
      await rename(`${values.jwks}.tmp`, values.jwks);
      output.stdout.write(`public key ${publicJwk.kid} added to ${values.jwks}\n`);
    } else {
      output.stdout.write(`public key: ${JSON.stringify(publicJwk)}\n`);
    }
    return 0;
  } catch (error) {
    output.stderr.write(`service-key: ${(error as Error).message}\n`);
    return 1;
  }
}

async function readJwks(path: string): Promise<JSONWebKeySet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return { keys: [] };
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<JSONWebKeySet>;
  if (!Array.isArray(parsed.keys)) throw new Error(`${path} is not a JWKS`);
  return parsed as JSONWebKeySet;
}
