/** Listening helpers shared by the local stack's HTTP endpoints. */
import { Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { refuseForeignHosts } from './host-guard.ts';
import { asPortInUse, PortInUseError, PortsInUseError } from './start-errors.ts';

/**
 * How long an endpoint keeps an idle keep-alive connection. Node's servers drop one after 5 s,
 * while the SDK's agent reuses idle sockets with no limit of its own: a function reusing one just
 * as it is dropped gets a reset, which a send that must not go twice (an e-mail) records as
 * `unconfirmed` and never retries. AWS's endpoints keep idle connections far longer; so do these.
 */
export const idleConnectionMs = 120_000;

/** Gives an HTTP server the local stack's idle-connection timeout (headers may take a little longer). */
export function keepConnectionsAlive(server: HttpServer): void {
  server.keepAliveTimeout = idleConnectionMs;
  server.headersTimeout = idleConnectionMs + 1_000;
}

/**
 * Starts `server` listening on `host:port` (0 picks a free port); resolves with the port it got.
 * An HTTP server answers only requests naming a local host (`refuseForeignHosts`): attach its
 * request listeners first. Rejects with a PortInUseError when the port is taken.
 */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  if (server instanceof HttpServer) {
    keepConnectionsAlive(server);
    // No page of a stranger's name resolved to this machine (DNS rebinding) reads an emulator.
    refuseForeignHosts(server, host);
  }
  await new Promise<void>((resolve, reject) => {
    const refuse = (error: Error): void => reject(asPortInUse(error, host, port));
    server.once('error', refuse);
    server.listen(port, host, () => {
      server.off('error', refuse);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** `http://host:port`, an IPv6 host in brackets. */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Rejects with a PortInUseError when `host:port` is taken, by listening on it for a moment. For
 * servers started by a library that does not report a failed listen (aws-ses-v2-local); 0 is
 * always free.
 */
export async function assertPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await listen(probe, port, host);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/**
 * Rejects with a PortsInUseError naming every one of `ports` taken on `host` (0 is always free), so
 * that a second `npm start` hears of all its ports at once, not of the first one it tried.
 */
export async function assertPortsFree(ports: readonly number[], host: string): Promise<void> {
  const taken: number[] = [];
  for (const port of ports) {
    try {
      await assertPortFree(port, host);
    } catch (error) {
      if (!(error instanceof PortInUseError)) throw error;
      taken.push(port);
    }
  }
  if (taken.length > 0) throw new PortsInUseError(host, taken);
}
