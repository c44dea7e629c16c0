/**
 * `herald tail`: the caller's live notifications, as the WebSocket API delivers them. The socket's
 * URL is `--ws` or `HERALD_WS_URL`; against a local stack it is found in `/_local/endpoints`.
 * Unread counts older than the newest shown are dropped (client/unread.ts): frames of different
 * invocations can arrive out of order, and the count's version says which is newer.
 */
import type { Command } from 'commander';
import { applyUnread } from '../../client/index.ts';
import type { UnreadCount } from '../../client/index.ts';
import { checkedUrl, CliError, print, targetUrl, wholeNumberOption } from '../target.ts';
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

/** What {@link followSocket} needs: where to connect, what to do with each frame, when to stop. */
export interface FollowOptions {
  readonly url: URL;
  /** Each frame but `pong`, in arrival order, with unread counts older than one passed before dropped ({@link unreadInOrder}). */
  readonly onFrame: (frame: Frame) => void;
  /** Stop after this many `notification` frames. */
  readonly count?: number;
  /** @default tailKeepAliveMs */
  readonly keepAliveMs?: number;
  /** Called at each connection's opening (the first, and each again after a 1001). */
  readonly onOpen?: () => void;
  /** Called once with a function that stops following (`tail` gives it to SIGINT). */
  readonly onStop?: (stop: () => void) => void;
}

/**
 * Follows a WebSocket of the WebSocket API until stopped: pings it every `keepAliveMs` so that an
 * idle connection is not closed, and connects again when the server closes it with 1001 (API
 * Gateway's idle timeout and its 2-hour limit); any other close ends it. `pong` frames are the
 * keep-alive's own and are not passed on. Rejects when a connection is refused or fails.
 */
export function followSocket(options: FollowOptions): Promise<void> {
  let seen = 0;
  // Across reconnections too: a count's version only grows.
  const inOrder = unreadInOrder();
  let stopped = false;
  let current: WebSocket | undefined;
  options.onStop?.(() => {
    stopped = true;
    current?.close();
  });
  return new Promise<void>((resolve, reject) => {
    const connect = (): void => {
      const socket = new WebSocket(options.url);
      current = socket;
      let keepAlive: NodeJS.Timeout | undefined;
      socket.addEventListener('open', () => {
        keepAlive = setInterval(() => socket.send(JSON.stringify({ action: 'ping' })), options.keepAliveMs ?? tailKeepAliveMs);
        options.onOpen?.();
      });
      socket.addEventListener('message', (event) => {
        const received = JSON.parse(String(event.data)) as Frame;
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
      socket.addEventListener('close', (event) => {
        clearInterval(keepAlive);
        if (!stopped && event.code === 1001 && keepAlive !== undefined) connect();
        else resolve();
      });
      socket.addEventListener('error', () => {
        stopped = true;
        clearInterval(keepAlive);
        reject(new CliError(`the WebSocket at ${options.url.origin} refused the connection or failed (is the token valid?)`));
      });
    };
    connect();
  });
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
      let told = false;
      await followSocket({
        url,
        onOpen: () => {
          if (!global.json && !told) process.stderr.write(`listening on ${url.origin}${url.pathname} (Ctrl-C stops)\n`);
          told = true;
        },
        onFrame: (frame) => print(global, frame, describeFrame),
        ...(options.count !== undefined ? { count: options.count } : {}),
        onStop: (stop) => process.once('SIGINT', stop),
      });
    });
}
