/** What `npm start` prints once everything is serving. */
export interface BannerOptions {
  /** The gateway, `http://127.0.0.1:<port>`. */
  readonly gatewayUrl: string;
  readonly statusUrl: string;
  /** `JAMEY_DATA_DIR`, where the development key lives. */
  readonly dataDir: string;
}

/** The data folder `npm run token` uses when `JAMEY_DATA_DIR` is unset. */
const DEFAULT_DATA_DIR = '.data';

const shellQuote = (value: string): string => (/^[\w./:-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`);

/**
 * The commands of the banner's example, one per line, meant to be pasted as printed into a
 * shell at the repository root: a development token for memory, then a store and a search.
 * `npm run token` finds the host's development key through `JAMEY_DATA_DIR`, named only when it
 * is not the default.
 */
export function exampleCommands({ gatewayUrl, dataDir }: BannerOptions): string[] {
  const env = dataDir === DEFAULT_DATA_DIR ? '' : `JAMEY_DATA_DIR=${shellQuote(dataDir)} `;
  return [
    `TOKEN=$(${env}npm run -s token -- --scopes memory:read,memory:write)`,
    `curl -s -X POST ${gatewayUrl}/v1/memories -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"content":"Jamey met Ada at the lab"}'`,
    `curl -s -H "authorization: Bearer $TOKEN" '${gatewayUrl}/v1/memories?query=Ada'`,
  ];
}

/** The whole banner. */
export function startupBanner(options: BannerOptions): string {
  const url = options.gatewayUrl;
  return [
    '',
    `Jamey is running (embedded mode, data in ${options.dataDir}/).`,
    `  API:  ${url}/v1   OpenAPI: ${url}/openapi.json   Docs: ${url}/docs`,
    `  Status page: ${options.statusUrl}`,
    '',
    'Try it (every /v1 call needs a token; npm run -s token -- --help lists the scopes):',
    ...exampleCommands(options).map((line) => `  ${line}`),
    '',
    'Press Ctrl+C to stop.',
    '',
  ].join('\n');
}
