/**
 * The console as the local stack serves it, on the HTTP API's port: the static files of
 * `console/` at `/` (the same files CloudFront serves from S3 on AWS, see
 * lib/constructs/herald-console.ts) and `/config.json`, which tells the page where the API and
 * the WebSocket API are, which claims the API reads, and that it runs locally (dev sign-in, sent
 * mail, outbox).
 *
 * Only the files that exist under `console/` when the stack starts are served, by exact path, so
 * no request can reach outside it and no API route is shadowed (none is named like a file there).
 * Every answer carries the security headers the CloudFront distribution adds on AWS
 * (lib/console-security-headers.ts), its Content-Security-Policy naming this stack's WebSocket API.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { consoleResponseHeaders } from '../lib/console-security-headers.ts';
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
    const current = config();
    // The headers CloudFront adds on AWS, from the same source, so that the page is tried here
    // under the policy it meets there (plain HTTP: no HSTS, see consoleResponseHeaders).
    const security = consoleResponseHeaders(current.wsUrl, { https: false });
    if (path === '/config.json') {
      const body = JSON.stringify(current);
      res.writeHead(200, { ...security, 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    }
    const file = files.get(path);
    if (!file) return false;
    const body = await readFile(file);
    res.writeHead(200, {
      ...security,
      'content-type': contentTypes[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      // Edited files show on reload: this is a development server.
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
