import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { systemClock, type Clock } from '@jamey/core';

/**
 * A secret value that does not print itself. `String(secret)`, `JSON.stringify(secret)`,
 * `util.inspect(secret)` and therefore every logger show `[redacted]`; only {@link reveal}
 * gives the value, so each use of it is visible in the code.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret value. Never log it, never put it in an error message. */
  reveal(): string {
    return this.#value;
  }

  /** True when both hold the same value. */
  equals(other: Secret): boolean {
    return this.#value === other.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}

/** Something a secret is read from: a mounted file or an environment variable. */
export interface SecretSource {
  /** Where the secret comes from, e.g. `file /var/run/secrets/jamey/jwks.json`. Never the value. */
  readonly description: string;
  /**
   * The current value. A file source re-reads the file at most once per refresh interval, so a
   * rotated Kubernetes Secret is picked up without a restart; if a re-read fails (the kubelet
   * swaps the files), the last good value stays in use and `onError` hears about it.
   * @throws {SecretUnavailableError} when no value has ever been read.
   */
  read(): Promise<Secret>;
}

/** A secret could not be read. The message names the source, never the value. */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
}

/** Options of {@link createFileSecretSource}. */
export interface FileSecretOptions {
  /** Re-read the file when the last read is older than this, in ms. Default 1000. */
  readonly refreshMs?: number;
  /** Decides when a refresh is due. Default the system clock. */
  readonly clock?: Clock;
  /** Hears about failed re-reads while the last good value stays in use. Gets no secret. */
  readonly onError?: (error: SecretUnavailableError) => void;
}

/**
 * Reads a secret from a file, the way Kubernetes mounts Secrets. Trailing whitespace (the
 * newline editors add) is trimmed. The file is re-read when the value is older than
 * `refreshMs` (default 1 s), on the next {@link SecretSource.read}; concurrent reads share one
 * file read.
 */
export function createFileSecretSource(path: string, options: FileSecretOptions = {}): SecretSource {
  const refreshMs = options.refreshMs ?? 1000;
  const clock = options.clock ?? systemClock;
  const description = `file ${path}`;
  let current: Secret | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<Secret> | undefined;

  const load = async (): Promise<Secret> => {
    try {
      const text = (await readFile(path, 'utf8')).trimEnd();
      if (text.length === 0) throw new Error('the file is empty');
      current = current?.reveal() === text ? current : new Secret(text);
    } catch (cause) {
      const error = new SecretUnavailableError(`cannot read the secret from ${description}: ${reasonOf(cause)}`);
      if (current === undefined) throw error;
      options.onError?.(error);
    } finally {
      // A failed re-read waits a full interval too, so a missing file is not hammered.
      readAt = clock.now();
    }
    return current;
  };

  return {
    description,
    read: () => {
      if (current !== undefined && clock.now() - readAt < refreshMs) return Promise.resolve(current);
      pending ??= load().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}

/** A secret that never changes: an environment variable's value, or a key generated in memory. */
export function createStaticSecretSource(value: string, description: string): SecretSource {
  if (value.trim().length === 0) throw new SecretUnavailableError(`the secret from ${description} is empty`);
  const secret = new Secret(value.trim());
  return { description, read: () => Promise.resolve(secret) };
}

/**
 * The secret named `name` in `env`: from the file `<name>_FILE` points at (preferred, and
 * rotatable), else the value of `<name>` itself. Undefined when neither is set.
 * @throws {SecretUnavailableError} when both are set, which is ambiguous.
 */
export function secretSourceFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  options: FileSecretOptions = {},
): SecretSource | undefined {
  const file = nonEmpty(env[`${name}_FILE`]);
  const value = nonEmpty(env[name]);
  if (file !== undefined && value !== undefined) {
    throw new SecretUnavailableError(`set either ${name} or ${name}_FILE, not both`);
  }
  if (file !== undefined) return createFileSecretSource(file, options);
  if (value !== undefined) return createStaticSecretSource(value, `environment variable ${name}`);
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** The error's code or a generic word: file errors are fine to show, parsed contents are not. */
function reasonOf(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return cause instanceof Error && cause.message === 'the file is empty' ? cause.message : 'unreadable';
}
