/**
 * `herald tail`: the caller's live notifications, as the WebSocket API delivers them. The socket's
 * URL is `--ws` or `HERALD_WS_URL`; against a local stack it is found in `/_local/endpoints`.
 * Unread counts older than the newest shown are dropped (client/unread.ts): frames of different
 * invocations can arrive out of order, and the count's version says which is newer.
 */
import type { Command } from 'commander';
import WebSocket from 'ws';
import { applyUnread } from '../../client/index.ts';
import type { UnreadCount } from '../../client/index.ts';
import { checkedUrl, clientOf, CliError, print, targetUrl, wholeNumberOption } from '../target.ts';
import type { GlobalOptions } from '../target.ts';

/** A frame of the WebSocket API, as far as `tail` reads it. */
export interface Frame {
  readonly type?: string;
  readonly unread?: number;
  /** The version of `unread`: greater is newer (client/unread.ts). */
  readonly unreadVersion?: number;
  readonly notification?: { readonly id: string; readonly title: string; readonly message: string; readonly priority: string; readonly scheduledAt: string };
}

/** The WebSocket API's URL: `--ws`, `HERALD_WS_URL`, or the local stack's. */
async function socketUrl(options: GlobalOptions & { ws?: string }): Promise<string> {
  const given = options.ws ?? process.env.HERALD_WS_URL;
  if (given) return given;
  const base = targetUrl(options);
  const answer = await fetch(`${base}/_local/endpoints`).catch(() => undefined);
  const callback = answer?.ok ? ((await answer.json()) as { apigatewaymanagementapi?: string }).apigatewaymanagementapi : undefined;
  if (!callback) throw new CliError(`no WebSocket URL: pass --ws <wss://...> or set HERALD_WS_URL (only a local stack at ${base} tells its own)`);
  return callback.replace(/^http/, 'ws');
}

function describeFrame(frame: Frame): string {
  if (frame.type === 'notification' && frame.notification) {
    const n = frame.notification;
    return `${new Date().toISOString().slice(11, 19)}  ${n.id}  [${n.priority}]  ${n.title}: ${n.message}${frame.unread !== undefined ? `  (unread ${frame.unread})` : ''}`;
  }
  if (frame.type === 'inboxChanged') return `${new Date().toISOString().slice(11, 19)}  unread ${frame.unread}`;
  return JSON.stringify(frame);
}

/**
 * A filter of frames in arrival order that drops every unread count older than the newest it let
 * through: a stale `inboxChanged` frame is dropped whole (`undefined`), a stale `notification`
 * frame keeps its notification and loses its count. Frames without a count pass as they are.
 */
export function unreadInOrder(): (frame: Frame) => Frame | undefined {
  let applied: UnreadCount | undefined;
  return (frame) => {
    const { count, stale } = applyUnread(applied, frame);
    applied = count;
    if (!stale) return frame;
    if (frame.type !== 'notification') return undefined;
    const { unread: _unread, unreadVersion: _unreadVersion, ...rest } = frame;
    return rest;
  };
}

/** How often `tail` pings: well inside the 10 minutes without a frame after which API Gateway closes a WebSocket. */
export const tailKeepAliveMs = 5 * 60 * 1000;

/** The first wait after a refused connection; each further refusal doubles it. */
export const tailFirstRetryMs = 2 * 1000;
/** The longest wait between two tries of a refused connection. */
export const tailMaxRetryMs = 60 * 1000;

/**
 * How long to wait before trying again after the `refusals`-th refusal in a row (1, 2, ...): doubling
 * from `firstMs` up to `maxMs`, at least what the server asked for, jittered (×0.5–1) so that many
 * clients refused together do not come back together. `random` is in [0, 1).
 */
export function retryDelayMs(refusals: number, random: number, options: { firstMs: number; maxMs: number; askedMs?: number }): number {
  const doubled = Math.min(options.maxMs, options.firstMs * 2 ** Math.max(0, refusals - 1));
  return Math.max(options.askedMs ?? 0, Math.round(doubled * (0.5 + random / 2)));
}

/** A handshake the server refused: its status and, when it said one, its reason. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
  /** What the server asked to wait (`Retry-After`, or the error's `retryAfterSeconds`), in ms. */
  readonly retryAfterMs?: number;
}

/** What {@link followSocket} needs: where to connect, what to do with each frame, when to stop. */
export interface FollowOptions {
  readonly url: URL;
  /** Each frame but `pong`, in arrival order, with unread counts older than one passed before dropped ({@link unreadInOrder}). */
  readonly onFrame: (frame: Frame) => void;
  /** Stop after this many `notification` frames. */
  readonly count?: number;
  /** @default tailKeepAliveMs */
  readonly keepAliveMs?: number;
  /** Called at each connection's opening (the first, and each again after a 1001 or a refusal). */
  readonly onOpen?: () => void;
  /** Called when a connection is refused with 429 (too many open), with how long it waits before trying again. */
  readonly onRefused?: (refusal: Refusal, waitMs: number) => void;
  /** @default tailFirstRetryMs */
  readonly firstRetryMs?: number;
  /** @default tailMaxRetryMs */
  readonly maxRetryMs?: number;
  /** Called once with a function that stops following (`tail` gives it to SIGINT). */
  readonly onStop?: (stop: () => void) => void;
}

/** Reads a refused handshake's status, reason and wait from its response. */
function refusalOf(status: number, headers: Readonly<Record<string, string | string[] | undefined>>, body: string): Refusal {
  let message = body.trim();
  let askedSeconds = Number(headers['retry-after']);
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string; details?: { retryAfterSeconds?: number } }; message?: string };
    message = parsed.error?.message ?? parsed.message ?? message;
    if (!Number.isFinite(askedSeconds)) askedSeconds = Number(parsed.error?.details?.retryAfterSeconds);
  } catch {
    // Not JSON: the body as it came.
  }
  return { status, message, ...(Number.isFinite(askedSeconds) && askedSeconds > 0 ? { retryAfterMs: askedSeconds * 1000 } : {}) };
}

/**
 * Follows a WebSocket of the WebSocket API until stopped: pings it every `keepAliveMs` so that an
 * idle connection is not closed, and connects again when the server closes it with 1001 (API
 * Gateway's idle timeout and its 2-hour limit); any other close ends it. `pong` frames are the
 * keep-alive's own and are not passed on. A handshake refused with 429 (the user has the most
 * connections allowed open) is tried again after a growing, jittered wait, never in a loop; any
 * other refusal, or a failure, rejects, with the server's reason.
 */
export function followSocket(options: FollowOptions): Promise<void> {
  let seen = 0;
  // Across reconnections too: a count's version only grows.
  const inOrder = unreadInOrder();
  let stopped = false;
  let refusals = 0;
  let current: WebSocket | undefined;
  let waiting: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  options.onStop?.(() => {
    stopped = true;
    current?.close();
    if (waiting) {
      clearTimeout(waiting.timer);
      waiting.resolve();
    }
  });
  return new Promise<void>((resolve, reject) => {
    const connect = (): void => {
      const socket = new WebSocket(options.url);
      current = socket;
      let keepAlive: NodeJS.Timeout | undefined;
      let refused = false;
      socket.on('open', () => {
        refusals = 0;
        keepAlive = setInterval(() => socket.send(JSON.stringify({ action: 'ping' })), options.keepAliveMs ?? tailKeepAliveMs);
        options.onOpen?.();
      });
      socket.on('unexpected-response', (_request, response) => {
        refused = true;
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.once('end', () => {
          const refusal = refusalOf(response.statusCode ?? 0, response.headers, body);
          if (refusal.status !== 429) {
            // API Gateway's $connect says no more than Unauthorized: name what it may be, and the remedy.
            const hint = refusal.status === 401 ? ' (the token is missing, invalid or expired: a token lasts an hour unless made for longer; locally a new one: npm run token -- --sub <you>)' : '';
            reject(new CliError(`the WebSocket at ${options.url.origin} refused the connection: ${refusal.status}${refusal.message ? ` ${refusal.message}` : ''}${hint}`));
            return;
          }
          refusals += 1;
          const waitMs = retryDelayMs(refusals, Math.random(), {
            firstMs: options.firstRetryMs ?? tailFirstRetryMs,
            maxMs: options.maxRetryMs ?? tailMaxRetryMs,
            ...(refusal.retryAfterMs !== undefined ? { askedMs: Math.min(refusal.retryAfterMs, options.maxRetryMs ?? tailMaxRetryMs) } : {}),
          });
          const timer = setTimeout(() => {
            waiting = undefined;
            if (stopped) resolve();
            else connect();
          }, waitMs);
          waiting = { timer, resolve };
          options.onRefused?.(refusal, waitMs);
        });
      });
      socket.on('message', (data) => {
        const received = JSON.parse(String(data)) as Frame;
        if (received.type === 'pong') return;
        const frame = inOrder(received);
        if (frame === undefined) return;
        options.onFrame(frame);
        if (frame.type === 'notification') seen += 1;
        if (options.count !== undefined && seen >= options.count) {
          stopped = true;
          socket.close();
        }
      });
      socket.on('close', (code) => {
        clearInterval(keepAlive);
        if (refused) return;
        if (!stopped && code === 1001 && keepAlive !== undefined) connect();
        else resolve();
      });
      socket.on('error', () => {
        if (refused) return;
        stopped = true;
        clearInterval(keepAlive);
        reject(new CliError(`the WebSocket at ${options.url.origin} could not be reached or failed`));
      });
    };
    connect();
  });
}

/**
 * Why nothing will come to the tail of a caller the API does not know as a recipient (GET /v1/me
 * answered 404: not in the tenant's directory), in one line; undefined when the caller is known,
 * or when the API cannot say (not reachable, another error): the socket is the tail's, not the API.
 */
export async function unknownCallerWarning(options: GlobalOptions): Promise<string | undefined> {
  const answer = await clientOf(options)
    .GET('/v1/me')
    .catch(() => undefined);
  if (answer?.response.status !== 404) return undefined;
  const error = (answer.error as { error?: { code?: string; message?: string } } | undefined)?.error;
  if (error?.code !== 'NOT_FOUND') return undefined;
  return `${error.message ?? 'you are not a recipient'}: nothing is delivered to this tail until you are (listening all the same)`;
}

/** Adds `tail` to `program`. */
export function addTailCommand(program: Command): void {
  program
    .command('tail')
    .description("print the caller's notifications as they are delivered, live (Ctrl-C stops)")
    .option('--ws <url>', 'the WebSocket API URL (default: HERALD_WS_URL, or the local stack\'s)')
    .option('--count <n>', 'stop after this many notifications', wholeNumberOption(1))
    .action(async (options: { ws?: string; count?: number }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions & { ws?: string }>();
      const token = global.token ?? process.env.HERALD_TOKEN;
      if (!token) throw new CliError('tail needs a token: --token or HERALD_TOKEN (locally: npm run token -- --sub alice)');
      const url = checkedUrl(await socketUrl({ ...global, ...options }), ['ws:', 'wss:'], options.ws !== undefined ? '--ws' : 'the WebSocket URL');
      url.searchParams.set('token', token);
      const warning = await unknownCallerWarning(global);
      if (warning) process.stderr.write(`herald: ${warning}\n`);
      let told = false;
      await followSocket({
        url,
        onOpen: () => {
          if (!global.json && !told) process.stderr.write(`listening on ${url.origin}${url.pathname} (Ctrl-C stops)\n`);
          told = true;
        },
        onRefused: (refusal, waitMs) =>
          process.stderr.write(`refused (${refusal.status}): ${refusal.message || 'too many connections'}; trying again in ${Math.ceil(waitMs / 1000)} s\n`),
        onFrame: (frame) => print(global, frame, describeFrame),
        ...(options.count !== undefined ? { count: options.count } : {}),
        onStop: (stop) => process.once('SIGINT', stop),
      });
    });
}
