/**
 * `herald tail`: the caller's live notifications, as the WebSocket API delivers them. The socket's
 * URL is `--ws` or `HERALD_WS_URL`; against a local stack it is found in `/_local/endpoints`.
 */
import type { Command } from 'commander';
import { checkedUrl, CliError, print, targetUrl, wholeNumberOption } from '../target.ts';
import type { GlobalOptions } from '../target.ts';

interface Frame {
  readonly type?: string;
  readonly unread?: number;
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
      const socket = new WebSocket(url);
      let seen = 0;
      await new Promise<void>((resolve, reject) => {
        socket.addEventListener('open', () => {
          if (!global.json) process.stderr.write(`listening on ${url.origin}${url.pathname} (Ctrl-C stops)\n`);
        });
        socket.addEventListener('message', (event) => {
          const frame = JSON.parse(String(event.data)) as Frame;
          print(global, frame, describeFrame);
          if (frame.type === 'notification') seen += 1;
          if (options.count !== undefined && seen >= options.count) socket.close();
        });
        socket.addEventListener('close', () => resolve());
        socket.addEventListener('error', () => reject(new CliError(`the WebSocket at ${url.origin} refused the connection or failed (is the token valid?)`)));
        process.once('SIGINT', () => socket.close());
      });
    });
}
