/** A FIFO lock with abortable waiting. */
export interface Mutex {
  /** Resolves with a release function once the lock is held. */
  lock(signal?: AbortSignal): Promise<() => void>;
  readonly locked: boolean;
  /** Callers queued behind the holder. */
  readonly waiting: number;
}

/** Creates an unlocked {@link Mutex}. */
export function createMutex(): Mutex {
  let locked = false;
  const queue: Array<() => void> = [];

  const release = (): void => {
    const next = queue.shift();
    if (next) next();
    else locked = false;
  };

  const makeRelease = (): (() => void) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  };

  return {
    get locked() {
      return locked;
    },
    get waiting() {
      return queue.length;
    },
    lock(signal) {
      signal?.throwIfAborted();
      if (!locked) {
        locked = true;
        return Promise.resolve(makeRelease());
      }
      return new Promise((resolve, reject) => {
        const grant = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve(makeRelease());
        };
        const onAbort = (): void => {
          const index = queue.indexOf(grant);
          if (index >= 0) queue.splice(index, 1);
          reject(signal?.reason as Error);
        };
        queue.push(grant);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}
