/** A listener for one event. */
export type Listener<E> = (event: E) => void;

/**
 * A tiny typed event emitter: listeners by event name. Policies emit; adapters (prom-client,
 * OpenTelemetry) listen. Emitting to an event nobody listens to costs one property read, and
 * policies check {@link EventEmitter.has} before building a payload, so unobserved events
 * allocate nothing.
 *
 * A listener that throws does not break the policy that emitted: the error is rethrown on a
 * microtask, where it surfaces as an uncaught exception (a bug in the listener).
 */
export class EventEmitter<Events extends object> {
  // Arrays are replaced, never mutated, so an emit in progress is unaffected by (un)subscribing.
  private readonly listeners: { [K in keyof Events]?: ReadonlyArray<Listener<Events[K]>> } = {};

  /** Subscribes to `name`. Returns a function that unsubscribes (idempotent). */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    this.listeners[name] = [...(this.listeners[name] ?? []), listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.off(name, listener);
    };
  }

  /** Removes one subscription of `listener` to `name`. */
  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    const current = this.listeners[name];
    if (current === undefined) return;
    const index = current.indexOf(listener);
    if (index < 0) return;
    const next = current.filter((_, i) => i !== index);
    if (next.length === 0) delete this.listeners[name];
    else this.listeners[name] = next;
  }

  /** The number of listeners subscribed to `name`. */
  listenerCount(name: keyof Events): number {
    return this.listeners[name]?.length ?? 0;
  }

  /** True when anyone listens to `name`; check it before building an expensive payload. */
  has(name: keyof Events): boolean {
    return this.listeners[name] !== undefined;
  }

  /** Calls every listener of `name` with `event`, synchronously, in subscription order. */
  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    const current = this.listeners[name];
    if (current === undefined) return;
    for (const listener of current) {
      try {
        listener(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
