import { parseArgs } from 'node:util';
import { ensureDevSigningKey, mintDevToken } from '../dev-keys.js';
import { DEV_AUDIENCE } from '../mode.js';
import { parseScopeList, SCOPE_NAMES } from '../scopes.js';

const USAGE = `Prints a development token signed by the embedded host's development key.

Usage: npm run -s token -- --scopes <scope,...> [--sub <subject>] [--ttl <seconds>] [--aud <audience>]

  --scopes  comma-separated scopes to grant (required); valid: ${SCOPE_NAMES.join(', ')}
  --sub     the user the token speaks for (default developer)
  --ttl     lifetime in seconds, 1 to 604800 (default 3600)
  --aud     the audience (default ${DEV_AUDIENCE}, what the embedded gateway expects)

The key lives in $JAMEY_DATA_DIR/security/dev-token-key.json (default .data), created on first
use. Only embedded mode (npm start) accepts these tokens.
`;

/** Where the command writes. */
export interface CommandOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** The validated arguments of the token command. */
export interface TokenCommandArgs {
  readonly scopes: ReturnType<typeof parseScopeList>;
  readonly subject: string;
  readonly ttlSec: number;
  readonly audience: string;
}

/**
 * Validates the token command's arguments.
 * @throws {Error} with every problem, one per line.
 */
export function parseTokenArgs(argv: readonly string[]): TokenCommandArgs | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        scopes: { type: 'string' },
        sub: { type: 'string', default: 'developer' },
        ttl: { type: 'string', default: '3600' },
        aud: { type: 'string', default: DEV_AUDIENCE },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new Error((error as Error).message);
  }
  if (values.help) return 'help';
  const problems: string[] = [];
  let scopes: TokenCommandArgs['scopes'] = [];
  if (values.scopes === undefined) problems.push(`--scopes is required; valid scopes: ${SCOPE_NAMES.join(', ')}`);
  else {
    try {
      scopes = parseScopeList(values.scopes);
    } catch (error) {
      problems.push(`--scopes: ${(error as Error).message}`);
    }
  }
  if (!/^[A-Za-z0-9._@:+-]{1,255}$/.test(values.sub)) {
    problems.push('--sub must be 1 to 255 letters, digits or . _ @ : + -');
  }
  const ttlSec = Number(values.ttl);
  if (!/^\d+$/.test(values.ttl) || ttlSec < 1 || ttlSec > 604_800) problems.push('--ttl must be a whole number of seconds from 1 to 604800');
  if (!/^[\x21-\x7e]{1,255}$/.test(values.aud)) problems.push('--aud must be 1 to 255 printable characters without spaces');
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return { scopes, subject: values.sub, ttlSec, audience: values.aud };
}

/** Runs the token command; returns the exit code (0 ok, 2 bad arguments, 1 other failure). */
export async function runTokenCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, output: CommandOutput): Promise<number> {
  let args;
  try {
    args = parseTokenArgs(argv);
  } catch (error) {
    output.stderr.write(`token: ${(error as Error).message.split('\n').join('\ntoken: ')}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    output.stdout.write(USAGE);
    return 0;
  }
  try {
    const key = await ensureDevSigningKey(env['JAMEY_DATA_DIR']?.trim() || '.data');
    output.stdout.write(`${await mintDevToken(key, args)}\n`);
    return 0;
  } catch (error) {
    output.stderr.write(`token: ${(error as Error).message}\n`);
    return 1;
  }
}
