import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSOLE_DIRECTORY, createConsoleSite } from '../../../local/console-site.ts';
import type { ConsoleConfig } from '../../../local/console-site.ts';
import { closeServer } from '../../../local/http-gateway.ts';

// Cognito's claim names: the page reads the caller from the claims the API reads.
const config: ConsoleConfig = {
  apiUrl: '',
  wsUrl: 'ws://127.0.0.1:3001',
  issuer: 'https://herald.local',
  claims: { tenantClaim: 'custom:tenant', roleClaim: 'cognito:groups', singleTenant: false },
  local: true,
};

describe('the local console site', () => {
  let server: Server | undefined;

  afterEach(async () => {
    if (server) await closeServer(server);
    server = undefined;
  });

  /** Serves the site, and a 418 for every request it leaves alone (the HTTP API's routes). */
  async function serve(directory?: string): Promise<(method: string, path: string) => Promise<Response>> {
    const site = await createConsoleSite(() => config, directory);
    server = createServer((req, res) => {
      void site(req, res).then((handled) => {
        if (!handled) res.writeHead(418).end();
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return (method, path) => fetch(`${base}${path}`, { method });
  }

  it('serves the console at / and its files by path, each with its content type', async () => {
    const call = await serve();
    const index = await call('GET', '/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await index.text()).toContain('<script type="module" src="app.js">');
    const app = await call('GET', '/app.js?v=1');
    expect(app.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await call('GET', '/vendor/htm-preact-standalone.js')).status).toBe(200);
    expect((await call('HEAD', '/style.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('tells the page where the API is, which claims it reads the caller from, and that it runs locally', async () => {
    const call = await serve();
    const answer = await call('GET', '/config.json');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(await answer.json()).toEqual(config);
  });

  it('leaves every other path and method to the API, and nothing outside the console is reached', async () => {
    const call = await serve();
    expect((await call('GET', '/v1/notifications')).status).toBe(418);
    expect((await call('POST', '/')).status).toBe(418);
    expect((await call('GET', '/../package.json')).status).toBe(418);
    expect((await call('GET', '/%2e%2e/package.json')).status).toBe(418);
    expect((await call('GET', '/lateness.d.ts')).status).toBe(418);
  });

  it('refuses to start without an index.html', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'herald-console-'));
    try {
      await mkdir(join(empty, 'vendor'));
      await writeFile(join(empty, 'vendor', 'x.js'), '');
      await expect(createConsoleSite(() => config, empty)).rejects.toThrow(/no index.html/);
      expect(CONSOLE_DIRECTORY.endsWith('console')).toBe(true);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
