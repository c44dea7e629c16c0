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
    if (current instanceof PortInUseError) {
      const variable = Object.entries(ports).find(([, port]) => port === current.port)?.[0];
      const hint = variable
        ? `set ${variable} to another port, or ${variable}=0 to pick a free one`
        : 'stop what listens there, or choose other ports (HERALD_HTTP_PORT=0 HERALD_WS_PORT=0 HERALD_SES_PORT=0 picks free ones)';
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
