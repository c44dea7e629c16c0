/**
 * A local AWS Secrets Manager for the secrets Herald's functions read: `GetSecretValue` over the
 * service's JSON protocol (`X-Amz-Target: secretsmanager.GetSecretValue`, awsJson1.1), by name or
 * ARN, answered as AWS does, `ResourceNotFoundException` for a secret it does not hold. The
 * secrets are fixed when the stack starts; nothing else of the service is played.
 */
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import { httpUrl, listen } from './listen.ts';

export interface SecretsManagerEmulator {
  readonly endpoint: string;
  /** The ARN of a secret, by name. */
  arnOf(name: string): string;
  stop(): Promise<void>;
}

function reply(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}

/** Starts it with `secrets` (name → secret string). */
export async function startSecretsManagerEmulator(options: {
  readonly secrets: Readonly<Record<string, string>>;
  readonly region: string;
  readonly accountId: string;
  readonly host?: string;
  readonly port?: number;
}): Promise<SecretsManagerEmulator> {
  const created = new Date();
  const arnOf = (name: string): string => `arn:aws:secretsmanager:${options.region}:${options.accountId}:secret:${name}-local`;
  const byId = new Map(Object.entries(options.secrets).flatMap(([name, value]) => [[name, { name, value }], [arnOf(name), { name, value }]] as const));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== 'secretsmanager.GetSecretValue') {
        return reply(res, 400, { __type: 'UnknownOperationException', message: `${target || 'This operation'} is not played by the local Secrets Manager` }, 'UnknownOperationException');
      }
      let secretId: unknown;
      try {
        secretId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: unknown }).SecretId;
      } catch {
        return reply(res, 400, { __type: 'SerializationException', message: 'The body is not JSON' }, 'SerializationException');
      }
      const secret = typeof secretId === 'string' ? byId.get(secretId) : undefined;
      if (!secret) {
        return reply(res, 400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }, 'ResourceNotFoundException');
      }
      return reply(res, 200, {
        ARN: arnOf(secret.name),
        Name: secret.name,
        SecretString: secret.value,
        VersionId: '00000000-0000-4000-8000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: created.getTime() / 1000,
      });
    });
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 0, host);
  return {
    endpoint: httpUrl(host, port),
    arnOf,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
