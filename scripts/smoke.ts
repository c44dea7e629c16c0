/**
 * `npm run smoke -- --url <HttpApiUrl> --ws <WebSocketUrl> --token <jwt> [--timeout <seconds>]`
 *
 * The few end-to-end checks that prove a deployment works, run after each `cdk deploy` with the
 * stack's outputs and a token of a dedicated smoke-test user of your identity provider (registered
 * in Herald's directory with an e-mail address SES may send to). It prints each step and stops at
 * the first failure, exiting 1 (2 for bad arguments):
 *
 * 1. the API answers `/health`, and knows the token's user (`GET /v1/me`);
 * 2. a WebSocket connection opens with the token;
 * 3. a notification scheduled a few seconds ahead to that user arrives over the WebSocket;
 * 4. another, scheduled an hour ahead (through EventBridge Scheduler), is cancelled and reads cancelled;
 * 5. the e-mail channel of the first reaches `sent` (SES accepted it).
 *
 * It leaves two notifications behind (one delivered, one cancelled), as any client would.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

/** What the command was asked to check. */
export interface SmokeOptions {
  /** The HTTP API's base URL (the `HttpApiUrl` output). */
  readonly url: string;
  /** The WebSocket URL (the `WebSocketUrl` output). */
  readonly ws: string;
  /** A bearer token of the smoke-test user. */
  readonly token: string;
  /** How long each waiting step may take, in seconds. */
  readonly timeoutSeconds: number;
}

/** A command line that cannot be run; the message says why, with the usage. */
export class SmokeUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmokeUsageError';
  }
}

/** A check that did not hold. */
export class SmokeCheckError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SmokeCheckError';
  }
}

export const smokeUsage = `Usage: npm run smoke -- --url <HttpApiUrl> --ws <WebSocketUrl> --token <jwt> [--timeout <seconds>]

Checks a deployment end to end, as the token's user: health, a notification received over the
WebSocket, a cancel before its time, and the e-mail channel's outcome. Run it after each deploy.

  --url <url>          the HTTP API's base URL (stack output HttpApiUrl)
  --ws <url>           the WebSocket URL (stack output WebSocketUrl)
  --token <jwt>        a bearer token of a user registered in Herald's directory, with an e-mail address
  --timeout <seconds>  how long each waiting step may take (default 90)
  --help               this text`;

/** Parses the command line; `undefined` when `--help` was asked for. */
export function parseSmokeArgs(args: readonly string[]): SmokeOptions | undefined {
  let values: { url?: string; ws?: string; token?: string; timeout?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        url: { type: 'string' },
        ws: { type: 'string' },
        token: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new SmokeUsageError(`${(error as Error).message}\n\n${smokeUsage}`);
  }
  if (values.help) return undefined;
  const missing = (['url', 'ws', 'token'] as const).filter((name) => !values[name]);
  if (missing.length > 0) throw new SmokeUsageError(`Missing ${missing.map((name) => `--${name}`).join(', ')}\n\n${smokeUsage}`);
  const url = urlOption('url', values.url ?? '', ['http:', 'https:']);
  const ws = urlOption('ws', values.ws ?? '', ['ws:', 'wss:']);
  const timeoutSeconds = values.timeout === undefined ? 90 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new SmokeUsageError(`--timeout must be a positive number of seconds, got ${values.timeout}`);
  return { url, ws, token: values.token ?? '', timeoutSeconds };
}

function urlOption(name: string, value: string, protocols: readonly string[]): string {
  if (!URL.canParse(value) || !protocols.includes(new URL(value).protocol)) {
    throw new SmokeUsageError(`--${name} must be a ${protocols.join(' or ')} URL, got ${value}\n\n${smokeUsage}`);
  }
  return value.replace(/\/+$/, '');
}

/** The `sub` claim of a JWT (read, not verified: the API verifies it). */
export function subjectOf(token: string): string {
  const payload = token.split('.')[1];
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
  } catch (error) {
    throw new SmokeCheckError('The token is no JWT (its payload is not JSON)', { cause: error });
  }
  const sub = typeof claims === 'object' && claims !== null ? (claims as { sub?: unknown }).sub : undefined;
  if (typeof sub !== 'string' || sub === '') throw new SmokeCheckError('The token has no sub claim');
  return sub;
}

type Json = Record<string, unknown>;

interface ApiAnswer {
  readonly status: number;
  readonly body: Json;
}

/** Runs every check in order, printing each; throws a SmokeCheckError at the first that fails. */
export async function runSmoke(options: SmokeOptions, print: (line: string) => void): Promise<void> {
  const timeoutMs = options.timeoutSeconds * 1_000;
  const runId = new Date().toISOString();
  print(`Herald smoke test against ${options.url}`);
  const api = async (method: string, path: string, body?: unknown): Promise<ApiAnswer> => {
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${options.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : (error as Error).message;
      throw new SmokeCheckError(`nothing answers at ${options.url} (${why}): check --url, the stack output HttpApiUrl`, { cause: error });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      parsed = { text };
    }
    return { status: response.status, body: typeof parsed === 'object' && parsed !== null ? (parsed as Json) : { value: parsed } };
  };
  const expectStatus = (answer: ApiAnswer, status: number, what: string): Json => {
    if (answer.status === 401 && status !== 401) {
      throw new SmokeCheckError(
        `${what} answered 401 ${JSON.stringify(answer.body)}: the API refuses the token; it has expired, or is not one of the issuer and audience the stage accepts (herald:jwtIssuer, herald:jwtAudience)`,
      );
    }
    if (answer.status !== status) throw new SmokeCheckError(`${what} answered ${answer.status}, not ${status}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  const step = async <T>(name: string, check: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      const result = await check();
      print(`ok    ${name} (${Date.now() - started} ms)`);
      return result;
    } catch (error) {
      print(`FAIL  ${name}: ${(error as Error).message}`);
      throw error instanceof SmokeCheckError ? error : new SmokeCheckError(`${name}: ${(error as Error).message}`, { cause: error });
    }
  };
  const schedule = async (title: string, inMs: number): Promise<string> => {
    const created = expectStatus(
      await api('POST', '/v1/notifications', {
        recipients: [sub],
        title,
        message: `Herald smoke test ${runId}`,
        scheduledAt: new Date(Date.now() + inMs).toISOString(),
        channels: ['websocket', 'email'],
        // Urgent: quiet hours hold every other notification until their end, and the smoke test
        // checks delivery at any hour of the smoke user's night.
        priority: 'urgent',
      }),
      201,
      'POST /v1/notifications',
    );
    const [id] = Array.isArray(created.notificationIds) ? (created.notificationIds as unknown[]) : [];
    if (typeof id !== 'string') throw new SmokeCheckError(`POST /v1/notifications named no notification: ${JSON.stringify(created)}`);
    return id;
  };
  const notification = async (id: string): Promise<Json> => expectStatus(await api('GET', `/v1/notifications/${id}`), 200, `GET /v1/notifications/${id}`);

  const sub = await step('the token names its user (sub)', async () => subjectOf(options.token));
  await step('the API is up (GET /health)', async () => {
    expectStatus(await api('GET', '/health'), 200, 'GET /health');
  });
  await step(`the token's user is in the directory (GET /v1/me)`, async () => {
    const me = await api('GET', '/v1/me');
    if (me.status === 404) throw new SmokeCheckError(`${sub} is not in the directory: register it (PUT /v1/recipients/${sub} with an email) first`);
    expectStatus(me, 200, 'GET /v1/me');
  });
  const socket = await step('a WebSocket connection opens with the token', () => openSocket(options.ws, options.token, timeoutMs));
  try {
    const delivered = await step('a notification scheduled 5 s ahead arrives over the WebSocket', async () => {
      const id = await schedule('Herald smoke test: delivery', 5_000);
      try {
        await socket.waitFor((frame) => frame.type === 'notification' && (frame.notification as Json | undefined)?.id === id, timeoutMs, `frame for ${id}`);
      } catch (error) {
        // What the notification says of itself tells a delivery that failed from one not yet made.
        const view = await notification(id).catch(() => undefined);
        if (!view) throw error;
        const held = typeof view.heldUntil === 'string' ? `, held until ${view.heldUntil}` : '';
        const why = typeof view.lastError === 'string' ? ` (${view.lastError})` : '';
        throw new SmokeCheckError(`${(error as Error).message}; it reads ${String(view.status)}${held}${why}`, { cause: error });
      }
      return id;
    });
    await step('a notification scheduled an hour ahead is cancelled before its time', async () => {
      const id = await schedule('Herald smoke test: cancel', 60 * 60 * 1_000);
      expectStatus(await api('DELETE', `/v1/notifications/${id}`), 200, `DELETE /v1/notifications/${id}`);
      const status = (await notification(id)).status;
      if (status !== 'cancelled') throw new SmokeCheckError(`${id} reads ${String(status)} after its cancel, not cancelled`);
    });
    await step('the e-mail channel sent it (SES accepted the message)', async () => {
      const email = await poll(
        async () => ((await notification(delivered)).deliveries as Record<string, Json> | undefined)?.email,
        (outcome) => outcome !== undefined && outcome.status !== 'sending',
        timeoutMs,
      );
      if (email?.status !== 'sent') {
        const why = [email?.error, email?.detail].filter((text) => typeof text === 'string').join('; ');
        throw new SmokeCheckError(
          `e-mail ${String(email?.status ?? 'has no outcome')}${why ? ` (${why})` : ''}: check the user's address, SES production access (the sandbox sends to verified addresses only) and the sender identity`,
        );
      }
    });
  } finally {
    socket.close();
  }
  print('All checks passed.');
}

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() >= deadline) return value;
    await sleep(1_000);
  }
}

interface SmokeSocket {
  waitFor(match: (frame: Json) => boolean, timeoutMs: number, what: string): Promise<Json>;
  close(): void;
}

/** Opens the WebSocket (token in the query string, as the API's `$connect` authorizer reads it) and keeps its frames. */
async function openSocket(url: string, token: string, timeoutMs: number): Promise<SmokeSocket> {
  const target = new URL(url);
  target.searchParams.set('token', token);
  const socket = new WebSocket(target);
  const frames: Json[] = [];
  const waiters = new Set<() => void>();
  socket.addEventListener('message', (event: MessageEvent) => {
    try {
      const frame: unknown = JSON.parse(String(event.data));
      if (typeof frame === 'object' && frame !== null) frames.push(frame as Json);
    } catch {
      // A frame that is not JSON is nothing the checks wait for.
    }
    for (const wake of waiters) wake();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new SmokeCheckError(`no connection within ${timeoutMs} ms`)), timeoutMs);
    socket.addEventListener('open', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.addEventListener('error', () => {
      clearTimeout(timer);
      reject(new SmokeCheckError(`the connection to ${url} was refused or failed: check --ws, the stack output WebSocketUrl (a token the $connect authorizer refuses, 401, looks the same)`));
    });
  });
  return {
    waitFor: (match, waitMs, what) =>
      new Promise<Json>((resolve, reject) => {
        const check = (): boolean => {
          const found = frames.find(match);
          if (!found) return false;
          waiters.delete(wake);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const wake = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new SmokeCheckError(`no ${what} within ${waitMs} ms (${frames.length} other frame(s))`));
        }, waitMs);
        if (!check()) waiters.add(wake);
      }),
    close: () => socket.close(),
  };
}

async function main(): Promise<void> {
  const options = parseSmokeArgs(process.argv.slice(2));
  if (!options) {
    console.log(smokeUsage);
    return;
  }
  await runSmoke(options, (line) => console.log(line));
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    if (error instanceof SmokeUsageError) {
      console.error(error.message);
      process.exit(2);
    }
    if (!(error instanceof SmokeCheckError)) console.error(error);
    process.exit(1);
  });
}
