import { readFileSync } from 'node:fs';

/** The gateway's package version (the OpenAPI document's `info.version`). Same path from src/ and dist/. */
export const GATEWAY_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
