/**
 * AWS Secrets Manager for the local stack, as @aws-sdk/client-secrets-manager speaks it: the JSON
 * 1.1 protocol (`X-Amz-Target: secretsmanager.<Action>`), `GetSecretValue` and `DescribeSecret` of
 * the secrets the stack holds (the Telegram bot's token and the VAPID seed), by name or ARN; any
 * other secret is `ResourceNotFoundException`, as on AWS. The secrets are fixed when the stack
 * starts: creating, rotating and versions are not emulated. Its faultable endpoint (service
 * `secretsmanager`) is the one the functions are given.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallHook } from './aws-call-hook.ts';
import { startEmulatorFront } from './emulator-front.ts';
import { readBody } from './request-body.ts';
import type { EmulatorFront } from './emulator-front.ts';
import { closeServer, describeError } from './http-gateway.ts';
import { httpUrl, listen } from './listen.ts';

export interface SecretsManagerEmulatorOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  readonly region: string;
  readonly accountId: string;
  /** The secrets, by name, with their string values. */
  readonly secrets: Readonly<Record<string, string>>;
  readonly faultable?: { readonly hook: CallHook };
  readonly log?: (line: string) => void;
}

export interface SecretsManagerEmulator {
  readonly endpoint: string;
  readonly faultableEndpoint?: string;
  /** The ARN of a secret, by name. */
  arnOf(name: string): string;
  stop(): Promise<void>;
}

/** Starts the emulator with its secrets, and its faultable endpoint when asked. */
export async function startSecretsManagerEmulator(options: SecretsManagerEmulatorOptions): Promise<SecretsManagerEmulator> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  // An ARN ends in the name and six random characters, as Secrets Manager makes them.
  const arnOf = (name: string): string =>
    `arn:aws:secretsmanager:${options.region}:${options.accountId}:secret:${name}-${createHash('sha256').update(name).digest('hex').slice(0, 6)}`;
  const byId = new Map(Object.keys(options.secrets).flatMap((name) => [[name, name], [arnOf(name), name]] as [string, string][]));

  function reply(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const body = (await readBody(req, 1024 * 1024)) ?? Buffer.alloc(0);
    let input: { SecretId?: unknown };
    try {
      input = (body.length > 0 ? JSON.parse(body.toString('utf8')) : {}) as { SecretId?: unknown };
    } catch {
      reply(res, 400, { __type: 'SerializationException', message: 'The body is not JSON' }, 'SerializationException');
      return;
    }
    const action = target.replace(/^secretsmanager\./, '');
    if (action !== 'GetSecretValue' && action !== 'DescribeSecret') {
      reply(res, 400, { __type: 'InvalidRequestException', message: `The local Secrets Manager serves GetSecretValue and DescribeSecret, not ${action}` }, 'InvalidRequestException');
      return;
    }
    const name = typeof input.SecretId === 'string' ? byId.get(input.SecretId) : undefined;
    if (name === undefined) {
      reply(res, 400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }, 'ResourceNotFoundException');
      return;
    }
    const common = { ARN: arnOf(name), Name: name };
    if (action === 'DescribeSecret') reply(res, 200, common);
    else reply(res, 200, { ...common, SecretString: options.secrets[name], VersionId: 'local', VersionStages: ['AWSCURRENT'], CreatedDate: 0 });
  }

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      log(`[secretsmanager] ${req.method} ${req.url} failed: ${describeError(error)}`);
      if (!res.headersSent) reply(res, 500, { __type: 'InternalServiceError', message: 'Internal error' }, 'InternalServiceError');
    });
  };
  const server = createServer(serve);
  const port = await listen(server, options.port ?? 0, host);
  let front: EmulatorFront | undefined;
  try {
    if (options.faultable) front = await startEmulatorFront({ service: 'secretsmanager', hook: options.faultable.hook, serve, host });
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  return {
    endpoint: httpUrl(host, port),
    ...(front ? { faultableEndpoint: front.endpoint } : {}),
    arnOf,
    stop: async () => {
      await front?.stop();
      await closeServer(server);
    },
  };
}
