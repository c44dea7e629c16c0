/**
 * The console as the local stack serves it, on the HTTP API's port: the static files of
 * `console/` at `/` (the same files CloudFront serves from S3 on AWS, see
 * lib/constructs/herald-console.ts) and `/config.json`, which tells the page where the API and
 * the WebSocket API are, which claims the API reads, and that it runs locally (dev sign-in, sent
 * mail, outbox).
 *
 * Only the files that exist under `console/` when the stack starts are served, by exact path, so
 * no request can reach outside it and no API route is shadowed (none is named like a file there).
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import type { ClaimsConfig } from '../shared/config.ts';
import type { ExtraHandler } from './http-gateway.ts';

/** Where the console's files are in the repository. */
export const CONSOLE_DIRECTORY = resolve(import.meta.dirname, '..', 'console');

/** What the page reads from `/config.json` (console/app.js reads the same shape on AWS). */
export interface ConsoleConfig {
  /** Base URL of the HTTP API; empty for the page's own origin. */
  readonly apiUrl: string;
  /** URL of the WebSocket API (`?token=` is added by the page). */
  readonly wsUrl: string;
  /** The issuer whose tokens the API accepts, shown on the sign-in form. */
  readonly issuer: string;
  /**
   * The claims the API reads the caller from (`herald:tenantClaim`, `herald:roleClaim`,
   * `herald:singleTenant`), so the page shows the tenant and roles the API grants
   * (console/claims.js reads them as shared/auth/claims.ts does).
   */
  readonly claims: ClaimsConfig;
  /** True locally: the dev sign-in (`POST /_local/token`), the sent mail and the outbox are there. */
  readonly local: boolean;
  /** The local SES's own sent-mail page, linked from the console. */
  readonly mailViewerUrl?: string;
}

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  // Type declarations are for the tests that import the console's modules, not for the browser.
  return entries.filter((entry) => entry.isFile() && !entry.name.endsWith('.d.ts')).map((entry) => join(entry.parentPath, entry.name));
}

/**
 * The handler that serves the console; `config` is read on each request of `/config.json`
 * (the stack knows its WebSocket URL only once that gateway listens).
 */
export async function createConsoleSite(config: () => ConsoleConfig, directory: string = CONSOLE_DIRECTORY): Promise<ExtraHandler> {
  const files = new Map<string, string>();
  for (const file of await listFiles(directory)) {
    files.set(`/${relative(directory, file).split(sep).join('/')}`, file);
  }
  const index = files.get('/index.html');
  if (!index) throw new Error(`The console has no index.html in ${directory}`);
  files.set('/', index);

  return async function consoleSite(req, res) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/config.json') {
      const body = JSON.stringify(config());
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    }
    const file = files.get(path);
    if (!file) return false;
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': contentTypes[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      // Edited files show on reload: this is a development server.
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
