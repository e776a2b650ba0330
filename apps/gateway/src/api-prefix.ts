/** The public API's path prefix. Every route under it needs a bearer token. */
export const API_PREFIX = '/v1';
