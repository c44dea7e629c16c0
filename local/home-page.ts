/**
 * `GET /` of the local stack for what is not a browser: the links a newcomer needs, as JSON (a
 * browser, `Accept: text/html`, gets the console instead, which links to the same reference).
 * The HTML form stays for a stack started without the console's files.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const links = [
  { href: '/docs', label: 'API reference, with a request example for every route' },
  { href: '/openapi.json', label: 'OpenAPI 3.1 document (feed it to a client generator)' },
  { href: '/health', label: 'health check' },
  { href: '/_local/endpoints', label: 'the local emulators\u2019 endpoints' },
] as const;

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Herald (local)</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}</style></head>
<body><h1>Herald, running locally</h1>
<ul>${links.map((link) => `<li><a href="${link.href}">${link.href}</a>: ${link.label}</li>`).join('')}</ul>
<p>Get a token with <code>npm run token -- --sub ops --role admin</code>, then try <code>npx herald --help</code>.</p>
</body></html>
`;

/** Answers `GET /` (true), or leaves the request to the next handler (false). */
export function serveHomePage(req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const html = (req.headers.accept ?? '').includes('text/html');
  const body = html ? page : `${JSON.stringify({ service: 'herald', links: links.map((link) => ({ ...link })) }, null, 2)}\n`;
  res.writeHead(200, { 'content-type': html ? 'text/html; charset=utf-8' : 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
