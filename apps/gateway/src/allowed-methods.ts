import FindMyWay from 'find-my-way';

type HttpMethod = FindMyWay.HTTPMethod;

/** Tells which methods a path supports, so a wrong method gets 405 instead of 404. */
export interface AllowedMethods {
  /** Records a registered route (called from Fastify's onRoute hook). */
  add(method: string | readonly string[], url: string): void;
  /** The methods registered for `path` (no query string), sorted; empty when none match. */
  allowed(path: string): string[];
}

/**
 * Creates an index of routes built on Fastify's own router, so a path matches here exactly
 * when Fastify would match it with some method.
 */
export function createAllowedMethods(options: { maxParamLength: number }): AllowedMethods {
  const router = FindMyWay({ maxParamLength: options.maxParamLength });
  const methods = new Set<HttpMethod>();
  const noop = (): void => undefined;
  return {
    add(method, url) {
      for (const m of typeof method === 'string' ? [method] : method) {
        const upper = m.toUpperCase() as HttpMethod;
        if (!router.hasRoute(upper, url)) router.on(upper, url, noop);
        methods.add(upper);
      }
    },
    allowed(path) {
      return [...methods].filter((method) => router.find(method, path) !== null).sort();
    },
  };
}
