import { describe, expect, it } from 'vitest';
import { exampleCommands, startupBanner } from './banner.js';

describe('the startup banner', () => {
  it('gets a development token first and sends it with each curl (run for real in tests/e2e)', () => {
    const lines = exampleCommands({ gatewayUrl: 'http://127.0.0.1:8080', statusUrl: 'http://127.0.0.1:9200/', dataDir: '.data' });
    expect(lines).toEqual([
      'TOKEN=$(npm run -s token -- --scopes memory:read,memory:write)',
      `curl -s -X POST http://127.0.0.1:8080/v1/memories -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"content":"Jamey met Ada at the lab"}'`,
      `curl -s -H "authorization: Bearer $TOKEN" 'http://127.0.0.1:8080/v1/memories?query=Ada'`,
    ]);
  });

  it('names the data folder, quoted for the shell, when it is not the default', () => {
    const [token] = exampleCommands({ gatewayUrl: 'http://127.0.0.1:8080', statusUrl: '', dataDir: "/tmp/it's here" });
    expect(token).toBe(`TOKEN=$(JAMEY_DATA_DIR='/tmp/it'\\''s here' npm run -s token -- --scopes memory:read,memory:write)`);
    expect(exampleCommands({ gatewayUrl: 'u', statusUrl: '', dataDir: '/var/lib/jamey' })[0]).toMatch(/^TOKEN=\$\(JAMEY_DATA_DIR=\/var\/lib\/jamey npm/);
  });

  it('prints the URLs and the example, indented', () => {
    const banner = startupBanner({ gatewayUrl: 'http://127.0.0.1:8080', statusUrl: 'http://127.0.0.1:9200/', dataDir: '.data' });
    expect(banner).toContain('Docs: http://127.0.0.1:8080/docs');
    expect(banner).toContain('Status page: http://127.0.0.1:9200/');
    expect(banner).toContain('\n  TOKEN=$(npm run -s token -- --scopes memory:read,memory:write)\n');
  });
});
