import type { KeyObject } from 'node:crypto';
import { createPeriodicTask, type Clock, type PeriodicTask } from '@jamey/core';
import { signCheckpoint } from './checkpoint.js';
import type { VerifiableLog } from './verifiable-log.js';

/** A signed tree head as stored. */
export interface StoredTreeHead {
  readonly size: number;
  readonly rootHash: Buffer;
  /** The C2SP checkpoint (signed note), exactly as signed. */
  readonly note: string;
  readonly signedAt: Date;
}

/** Where signed tree heads live. Implemented by the Postgres adapter (table `tree_heads`). */
export interface TreeHeadStore {
  /** The head with the largest size, or undefined before the first. */
  latest(signal?: AbortSignal): Promise<StoredTreeHead | undefined>;
  /** The head of exactly `size` leaves, if one was signed. */
  atSize(size: number, signal?: AbortSignal): Promise<StoredTreeHead | undefined>;
  /** Stores `head` unless a head of its size exists (another replica signed it first). */
  insert(head: StoredTreeHead, signal?: AbortSignal): Promise<void>;
}

/** Dependencies of {@link createTreeHeadSigner}. */
export interface TreeHeadSignerDeps {
  readonly log: VerifiableLog;
  readonly store: TreeHeadStore;
  /** The log's origin, also the signing key's name (`AUDIT_LOG_ORIGIN`). */
  readonly origin: string;
  readonly privateKey: KeyObject;
  readonly clock: Clock;
}

/** Signs tree heads of the audit log. */
export interface TreeHeadSigner {
  /**
   * Signs and stores the current tree head when the tree has grown since the latest stored
   * head (or none is stored yet). Returns the new head, or undefined when nothing changed.
   */
  signIfChanged(signal?: AbortSignal): Promise<StoredTreeHead | undefined>;
}

/** Creates the {@link TreeHeadSigner}. */
export function createTreeHeadSigner(deps: TreeHeadSignerDeps): TreeHeadSigner {
  const { log, store, origin, privateKey, clock } = deps;
  return {
    async signIfChanged(signal) {
      const [size, latest] = await Promise.all([log.treeSize(signal), store.latest(signal)]);
      if (latest && latest.size >= size) return undefined;
      // Nodes of a size never change once written, so the root read here is final.
      const rootHash = await log.root(size, signal);
      const signed = signCheckpoint({ origin, size, rootHash }, origin, privateKey);
      const head: StoredTreeHead = { size, rootHash, note: signed.note, signedAt: new Date(clock.now()) };
      await store.insert(head, signal);
      return head;
    },
  };
}

/** Options of {@link createTreeHeadWorker}. */
export interface TreeHeadWorkerOptions {
  readonly signer: TreeHeadSigner;
  /** `AUDIT_TREE_HEAD_INTERVAL_MS`, default 10 s. */
  readonly intervalMs: number;
  /** Told about a failed round; the worker tries again at the next interval. */
  readonly onError: (error: unknown) => void;
  /** Told about each new head. */
  readonly onSigned?: ((head: StoredTreeHead) => void) | undefined;
}

/**
 * Signs a tree head once at start and then every `intervalMs` (when the size changed). Rounds
 * never overlap; `stop` waits for a round in progress.
 */
export function createTreeHeadWorker(options: TreeHeadWorkerOptions): PeriodicTask {
  const { signer, intervalMs, onError, onSigned } = options;
  return createPeriodicTask({
    intervalMs,
    onError,
    async run(signal) {
      const head = await signer.signIfChanged(signal);
      if (head) onSigned?.(head);
    },
  });
}
