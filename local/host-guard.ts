/**
 * The guard against DNS rebinding on the local stack's HTTP port. A web page the developer visits
 * can make its own name resolve to 127.0.0.1 and then read, as same-origin, whatever answers
 * there: `/_local/token` mints an admin token of any tenant, `/_local/mail` and `/_local/outbox`
 * show every message. Such a request carries the page's name in `Host`, so only names that cannot
 * be a stranger's are served: an IP address as written (rebinding needs a name), `localhost` and
 * `*.localhost` (RFC 6761: always loopback), and the name the stack was told to listen on. API
 * Gateway likewise answers only for its own host names. Vite and webpack-dev-server guard the
 * same way (`server.allowedHosts`, `allowedHosts`).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isIP } from 'node:net';

/**
 * True when `hostHeader` (a request's `Host`, with or without a port) names this machine as a
 * stranger's page cannot: an IP literal, `localhost`, `*.localhost`, or `listenHost`. A request
 * without `Host` (HTTP/1.0, no browser) is allowed; one that does not parse is not.
 */
export function isLocalHostHeader(hostHeader: string | undefined, listenHost: string): boolean {
  if (hostHeader === undefined) return true;
  let hostname: string;
  try {
    hostname = new URL(`http://${hostHeader}`).hostname;
  } catch {
    return false;
  }
  const name = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (isIP(name) !== 0) return true;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return name === listenHost.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Puts `server`'s request listeners behind {@link isLocalHostHeader}: a request naming another
 * host is answered 403 and reaches none of them. For the emulators' own HTTP servers (the SES
 * mail viewer on its fixed port shows every message sent, codes included); call it once their
 * listeners are attached. WebSocket upgrades are not requests and are left alone.
 */
export function refuseForeignHosts(server: Server, listenHost: string): void {
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!isLocalHostHeader(req.headers.host, listenHost)) {
      req.resume();
      const body = JSON.stringify({ message: `Forbidden: ${req.headers.host ?? ''} is not a name of this local stack (use its address, localhost or HERALD_HOST)` });
      res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      return;
    }
    for (const listener of listeners) listener.call(server, req, res);
  });
}
