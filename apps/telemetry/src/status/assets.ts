import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** One file the status server sends as it is. */
export interface StaticAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

/** The page's own files, beside `src/` and `dist/` like the migrations. */
const STATIC_DIR = fileURLToPath(new URL('../../static/', import.meta.url));

const require = createRequire(import.meta.url);

/** URL path → file and content type. uPlot is served from its npm package: no CDN. */
function assetFiles(): Record<string, { file: string; contentType: string }> {
  const uplot = (name: string): string => require.resolve(`uplot/dist/${name}`);
  return {
    '/': { file: `${STATIC_DIR}index.html`, contentType: 'text/html; charset=utf-8' },
    '/status.js': { file: `${STATIC_DIR}status.js`, contentType: 'text/javascript; charset=utf-8' },
    '/status.css': { file: `${STATIC_DIR}status.css`, contentType: 'text/css; charset=utf-8' },
    '/favicon.svg': { file: `${STATIC_DIR}favicon.svg`, contentType: 'image/svg+xml' },
    '/vendor/uplot.esm.js': { file: uplot('uPlot.esm.js'), contentType: 'text/javascript; charset=utf-8' },
    '/vendor/uplot.min.css': { file: uplot('uPlot.min.css'), contentType: 'text/css; charset=utf-8' },
  };
}

/**
 * Reads every static file of the status page into memory (about 150 KiB, mostly uPlot), so a
 * missing file fails at start-up rather than on the first visit.
 */
export async function loadStatusAssets(): Promise<ReadonlyMap<string, StaticAsset>> {
  const entries = await Promise.all(
    Object.entries(assetFiles()).map(async ([path, { file, contentType }]) => {
      try {
        return [path, { body: await readFile(file), contentType }] as const;
      } catch (error) {
        throw new Error(`status page asset ${path} is missing (${file})`, { cause: error });
      }
    }),
  );
  return new Map(entries);
}
