/**
 * SES for the local stack: aws-ses-v2-local (the SES v1 query API and the v2 REST API, and a web
 * page of the sent mail) on its own port, plus the faultable endpoint for the functions, which
 * hands every call the hook lets through to the same Express app in this process (it emits the
 * request on aws-ses-v2-local's server): one HTTP hop, no proxying.
 *
 * In front of aws-ses-v2-local, on both endpoints, sits what it lacks of the account
 * (`ses-quota-wire.ts`): the sending quotas, answered by v1 `GetSendQuota` and v2 `GetAccount`
 * and enforced on every send with SES's throttling errors (`ses-send-quota.ts`).
 *
 * Its list of the sent mail pages where the mail is kept (`ses-mailbox.ts`): `GET /store?limit=&cursor=`
 * answers one page newest first (`{ emails, total, nextCursor }`, `limit` 1 to 1,000, 400 naming a
 * bad parameter, 410 for a cursor from before `/clear-store`); `GET /store` and `/store?since=`
 * answer the whole store as aws-ses-v2-local does (its own page reads that).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sesModule from 'aws-ses-v2-local';
import type { CallHook, RecognisedCall } from './aws-call-hook.ts';
import { defaultMaxFormBodyBytes, nameRequest, startEmulatorFront } from './emulator-front.ts';
import type { EmulatorFront } from './emulator-front.ts';
import { closeServer, describeError } from './http-gateway.ts';
import { refuseForeignHosts } from './host-guard.ts';
import { assertPortFree, httpUrl } from './listen.ts';
import type { AcceptedEmail } from './ses-feedback.ts';
import { SesSendQuota } from './ses-send-quota.ts';
import type { AcceptedSend, SesQuotaLimits } from './ses-send-quota.ts';
import { serveWithQuota } from './ses-quota-wire.ts';
import { awsSesV2LocalMailbox } from './ses-mailbox.ts';
import type { SesMailbox } from './ses-mailbox.ts';
import { parseLocalPageQuery } from './newest-first-page.ts';
import { AppError } from '../shared/errors.ts';

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
  /** The account's sending quotas. @default 1,000 a second, 1,000,000 a day */
  readonly quota?: Partial<SesQuotaLimits>;
  /** Epoch ms, for the quotas' clock. @default Date.now */
  readonly now?: () => number;
  /** Where failures are reported. @default stderr */
  readonly log?: (line: string) => void;
  /** Told of each accepted send (the local stack turns the mailbox simulator's into bounces and complaints). */
  readonly onAccepted?: (email: AcceptedEmail) => void;
}

/** The account's quotas and the sends it accepted (`GET /_local/ses`). */
export interface SesSendsView {
  readonly quota: { readonly maxSendRate: number; readonly max24HourSend: number; readonly sentLast24Hours: number };
  readonly sends: readonly AcceptedSend[];
}

export interface SesEmulator {
  /** The plain endpoint and the sent-mail page (`/`, JSON at `/store`). */
  readonly endpoint: string;
  readonly faultableEndpoint?: string;
  /** The mail it accepted, paged newest first where aws-ses-v2-local keeps it. */
  readonly mailbox: SesMailbox;
  /** The quotas and every send accepted in the last 24 hours, each with the ms it was accepted. */
  sends(): SesSendsView;
  stop(): Promise<void>;
}

/** Starts aws-ses-v2-local with the account's quotas in front and, when asked, its faultable endpoint. */
export async function startSesEmulator(options: SesEmulatorOptions = {}): Promise<SesEmulator> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  const quota = new SesSendQuota(
    { maxSendRate: options.quota?.maxSendRate ?? 1_000, max24HourSend: options.quota?.max24HourSend ?? 1_000_000 },
    options.now,
  );
  const mailbox = awsSesV2LocalMailbox();
  // aws-ses-v2-local neither reports a failed listen nor resolves: find a taken port first.
  await assertPortFree(options.port ?? 8005, host);
  const ses: Server = await startSes({ host, port: options.port ?? 8005 });
  // aws-ses-v2-local's Express app, now behind the quotas on its own port too.
  const express = ses.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  const emulate = (req: IncomingMessage, res: ServerResponse): void => {
    for (const listener of express) listener.call(ses, req, res);
  };
  const serve = (req: IncomingMessage, res: ServerResponse, call: RecognisedCall | undefined): void => {
    serveWithQuota(req, res, { call, quota, emulate, ...(options.onAccepted ? { onAccepted: options.onAccepted } : {}) }).catch((error: unknown) => {
      log(`[ses] ${req.method} ${req.url} failed: ${describeError(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
  ses.removeAllListeners('request');
  ses.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (answeredMailPage(req, res, mailbox)) return;
    nameRequest('ses', req, defaultMaxFormBodyBytes)
      .then((named) => {
        if (named) serve(named.forward, res, named.call);
        else res.writeHead(413, { connection: 'close' }).end();
      })
      .catch((error: unknown) => {
        log(`[ses] ${req.method} ${req.url} failed: ${describeError(error)}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
  // Its page shows every message sent, verification codes included: not to a rebound name.
  refuseForeignHosts(ses, host);

  let front: EmulatorFront | undefined;
  try {
    if (options.faultable) {
      front = await startEmulatorFront({
        service: 'ses',
        hook: options.faultable.hook,
        serve,
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
    mailbox,
    sends: () => ({
      quota: { maxSendRate: quota.limits.maxSendRate, max24HourSend: quota.limits.max24HourSend, sentLast24Hours: quota.sentLast24Hours() },
      sends: quota.sends(),
    }),
    stop: async () => {
      await front?.stop();
      await closeServer(ses);
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/**
 * Answers `GET /store` with any parameter but `since` as one page of the mailbox (400 naming a
 * bad parameter, 410 for a cursor gone, in Herald's error shape); true when it answered, false to
 * leave the request to aws-ses-v2-local.
 */
function answeredMailPage(req: IncomingMessage, res: ServerResponse, mailbox: SesMailbox): boolean {
  const [path = '/', search = ''] = (req.url ?? '/').split('?');
  const query = new URLSearchParams(search);
  if (req.method !== 'GET' || path !== '/store' || [...query.keys()].every((name) => name === 'since')) return false;
  req.resume();
  try {
    const page = mailbox.page(parseLocalPageQuery(query));
    sendJson(res, 200, { emails: page.items, total: page.total, nextCursor: page.nextCursor });
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    sendJson(res, error.statusCode, { error: { code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) } });
  }
  return true;
}
