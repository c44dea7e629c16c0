/**
 * Why the local stack could not start, in terms a person can act on: each error names the
 * resource and what to do. `npm start` (local/main.ts) prints the message as one line and exits 1.
 */

/** A port the local stack must listen on is taken (Node's `EADDRINUSE`). */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  readonly port: number;
  readonly host: string;
  constructor(host: string, port: number, options?: { cause?: unknown }) {
    super(`port ${port} on ${host} is already in use`, options);
    this.host = host;
    this.port = port;
  }
}

/** Ports the local stack must listen on are taken: every one found so, before anything started. */
export class PortsInUseError extends Error {
  override readonly name = 'PortsInUseError';
  readonly ports: readonly number[];
  readonly host: string;
  constructor(host: string, ports: readonly number[], options?: { cause?: unknown }) {
    super(ports.length === 1 ? `port ${ports[0]} on ${host} is already in use` : `ports ${listed(ports.map(String))} on ${host} are already in use`, options);
    this.host = host;
    this.ports = ports;
  }
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** Another process (another `npm start`) holds the data directory's LevelDB lock. */
export class DataDirectoryInUseError extends Error {
  override readonly name = 'DataDirectoryInUseError';
  readonly path: string;
  constructor(path: string, options?: { cause?: unknown }) {
    super(`the data directory ${path} is in use by another process (another Herald local stack?)`, options);
    this.path = path;
  }
}

/** `error` as a PortInUseError when it is Node's EADDRINUSE of a listen on `host`, else itself. */
export function asPortInUse(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' ? new PortInUseError(host, port, { cause: error }) : error;
}

/** The package an `ERR_MODULE_NOT_FOUND` names (`Cannot find package 'dynalite' imported from ...`). */
function missingPackage(error: unknown): string | undefined {
  if ((error as NodeJS.ErrnoException | undefined)?.code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  return /Cannot find package '([^']+)'/.exec((error as Error).message)?.[1] ?? 'one of its modules';
}

/**
 * The one line `npm start` prints when the stack cannot start for a reason the user can fix, or
 * `undefined` for any other failure (printed in full). `ports` names the variable behind each port.
 */
export function startFailureLine(error: unknown, ports: Readonly<Record<string, number>>): string | undefined {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (current instanceof PortInUseError || current instanceof PortsInUseError) {
      const taken = current instanceof PortInUseError ? [current.port] : current.ports;
      const variables = taken.map((port) => Object.entries(ports).find(([, configured]) => configured === port)?.[0]);
      const named = variables.filter((variable): variable is string => variable !== undefined);
      let hint: string;
      if (named.length !== taken.length || named.length === 0) {
        hint = 'stop what listens there, or choose other ports (HERALD_HTTP_PORT=0 HERALD_WS_PORT=0 HERALD_SES_PORT=0 picks free ones)';
      } else if (named.length === 1) {
        hint = `set ${named[0]} to another port, or ${named[0]}=0 to pick a free one`;
      } else {
        hint = `set ${listed(named)} to other ports, or to 0 to pick free ones`;
      }
      return `Herald cannot start: ${current.message} (another npm start?): ${hint}.`;
    }
    if (current instanceof DataDirectoryInUseError) {
      return `Herald cannot start: ${current.message}: stop that stack, or set HERALD_DATA_DIR to another directory.`;
    }
    const name = missingPackage(current);
    if (name) return `Herald cannot start: the package ${name} is not installed: run npm install (npm install --omit=dev is enough for npm start).`;
  }
  return undefined;
}
