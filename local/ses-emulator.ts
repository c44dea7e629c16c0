/**
 * SES for the local stack: aws-ses-v2-local (the SES v1 query API and the v2 REST API, and a web
 * page of the sent mail) on its own port, plus the faultable endpoint for the functions, which
 * hands every call the hook lets through to the same Express app in this process (it emits the
 * request on aws-ses-v2-local's server): one HTTP hop, no proxying.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sesModule from 'aws-ses-v2-local';
import type { CallHook } from './aws-call-hook.ts';
import { startEmulatorFront } from './emulator-front.ts';
import type { EmulatorFront } from './emulator-front.ts';
import { closeServer } from './http-gateway.ts';
import { httpUrl } from './listen.ts';

type StartSes = typeof sesModule.default;
// aws-ses-v2-local is CommonJS with `exports.default`: Node's ESM import hands over the exports
// object, while bundlers and vitest hand over `exports.default` itself.
const startSes: StartSes = typeof sesModule === 'function' ? (sesModule as unknown as StartSes) : sesModule.default;

export interface SesEmulatorOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Port of the plain endpoint, which also serves the sent-mail page; 0 picks a free one. @default 8005 */
  readonly port?: number;
  /** When set, the faultable endpoint whose calls go through `hook`: the functions'. */
  readonly faultable?: { readonly hook: CallHook; readonly port?: number };
}

export interface SesEmulator {
  /** The plain endpoint and the sent-mail page (`/`, JSON at `/store`). */
  readonly endpoint: string;
  readonly faultableEndpoint?: string;
  stop(): Promise<void>;
}

/** Starts aws-ses-v2-local and, when asked, its faultable endpoint. */
export async function startSesEmulator(options: SesEmulatorOptions = {}): Promise<SesEmulator> {
  const host = options.host ?? '127.0.0.1';
  const ses: Server = await startSes({ host, port: options.port ?? 8005 });
  let front: EmulatorFront | undefined;
  try {
    if (options.faultable) {
      front = await startEmulatorFront({
        service: 'ses',
        hook: options.faultable.hook,
        serve: (req, res) => ses.emit('request', req, res),
        host,
        ...(options.faultable.port !== undefined ? { port: options.faultable.port } : {}),
      });
    }
  } catch (error) {
    await closeServer(ses);
    throw error;
  }
  return {
    endpoint: httpUrl(host, (ses.address() as AddressInfo).port),
    ...(front ? { faultableEndpoint: front.endpoint } : {}),
    stop: async () => {
      await front?.stop();
      await closeServer(ses);
    },
  };
}
