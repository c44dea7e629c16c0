/**
 * The WebSocket poster and the SES mailer against the local API Gateway `@connections` and the
 * local SES: what the connected client receives and what SES accepted, and the SendEmail call as
 * SES received it (wire front). A refusal only AWS gives (403 ForbiddenException) comes from the
 * gateway's call hook, in its wire shape.
 */
import { ApiGatewayManagementApiClient, ForbiddenException } from '@aws-sdk/client-apigatewaymanagementapi';
import { SESClient } from '@aws-sdk/client-ses';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { faultResponse } from '../../../../local/aws-call-hook.ts';
import type { CallHook } from '../../../../local/aws-call-hook.ts';
import { startSesEmulator } from '../../../../local/ses-emulator.ts';
import type { SesEmulator } from '../../../../local/ses-emulator.ts';
import { startWebSocketGateway } from '../../../../local/websocket-gateway.ts';
import type { RunningWebSocketGateway } from '../../../../local/websocket-gateway.ts';
import { ApiGatewaySocketPoster } from '../../../../shared/adapters/api-gateway-socket-poster.ts';
import { SesMailer } from '../../../../shared/adapters/ses-mailer.ts';
import { startWireFront } from '../../support/wire-front.ts';
import type { WireFront } from '../../support/wire-front.ts';

const region = 'eu-west-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
/** The gateway's answer to the next PostToConnection, when one is set. */
let nextPost: { statusCode: number; code: string; message: string } | undefined;
const hook: CallHook = (service, call) => {
  if (call.operation !== 'PostToConnection' || !nextPost) return undefined;
  const fault = nextPost;
  nextPost = undefined;
  return faultResponse(service, call.protocol, fault);
};
let gateway: RunningWebSocketGateway;
let ses: SesEmulator;
let sesFront: WireFront;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  gateway = await startWebSocketGateway({ port: 0, routes: { $connect: async () => ({ statusCode: 200 }) }, faultable: { hook }, log: () => undefined });
  ses = await startSesEmulator({ port: 0, log: () => undefined });
  sesFront = await startWireFront('ses', ses.endpoint);
});

afterEach(() => {
  nextPost = undefined;
  for (const socket of sockets.splice(0)) socket.close();
});

afterAll(async () => {
  await gateway.stop();
  await sesFront.stop();
  await ses.stop();
});

function aPoster(): ApiGatewaySocketPoster {
  return new ApiGatewaySocketPoster(new ApiGatewayManagementApiClient({ region, endpoint: gateway.faultableCallbackUrl, credentials }));
}

/** A client connected to the gateway, its connection id, and the frames it has received. */
async function aClient(): Promise<{ connectionId: string; socket: WebSocket; frames: string[] }> {
  const before = new Set(gateway.connectionIds());
  const socket = new WebSocket(gateway.url);
  sockets.push(socket);
  const frames: string[] = [];
  socket.on('message', (data: Buffer) => frames.push(data.toString('utf8')));
  await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject));
  const connectionId = gateway.connectionIds().find((id) => !before.has(id)) ?? '';
  return { connectionId, socket, frames };
}

describe('ApiGatewaySocketPoster', () => {
  it('posts the payload as JSON to the connection', async () => {
    // Prepare
    const poster = aPoster();
    const client = await aClient();

    // Act
    const result = await poster.post(client.connectionId, { type: 'pong' });

    // Assess
    expect(result).toBe('posted');
    await vi.waitFor(() => expect(client.frames).toEqual(['{"type":"pong"}']), { timeout: 5_000 });
  });

  it('says gone when the gateway answers 410 GoneException', async () => {
    // Prepare: a client that has gone away
    const poster = aPoster();
    const client = await aClient();
    client.socket.close();
    await vi.waitFor(() => expect(gateway.connectionIds()).not.toContain(client.connectionId), { timeout: 5_000 });

    // Act
    const result = await poster.post(client.connectionId, { type: 'pong' });

    // Assess
    expect(result).toBe('gone');
  });

  it('passes on any other failure', async () => {
    // Prepare
    const poster = aPoster();
    const client = await aClient();
    nextPost = { statusCode: 403, code: 'ForbiddenException', message: 'Forbidden' };

    // Act
    const result = poster.post(client.connectionId, {});

    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenException);
    expect(client.frames).toEqual([]);
  });
});

describe('SesMailer', () => {
  it('sends a UTF-8 text email from the configured sender', async () => {
    // Prepare
    const mailer = new SesMailer(() => new SESClient({ region, endpoint: sesFront.endpoint, credentials }), 'herald@example.com');

    // Act
    const { messageId } = await mailer.send({ to: 'bob@example.com', subject: 'Standup', text: 'Starts in 5 minutes' });

    // Assess
    expect(sesFront.calls().map((call) => call.input)).toEqual([
      {
        Action: 'SendEmail',
        Version: '2010-12-01',
        Source: 'herald@example.com',
        'Destination.ToAddresses.member.1': 'bob@example.com',
        'Message.Subject.Data': 'Standup',
        'Message.Subject.Charset': 'UTF-8',
        'Message.Body.Text.Data': 'Starts in 5 minutes',
        'Message.Body.Text.Charset': 'UTF-8',
      },
    ]);
    const { emails } = (await (await fetch(`${ses.endpoint}/store`)).json()) as { emails: { messageId: string; from: string; destination: { to: string[] }; subject: string; body: { text?: string; html?: string } }[] };
    expect(emails).toEqual([expect.objectContaining({ messageId, from: 'herald@example.com', destination: expect.objectContaining({ to: ['bob@example.com'] }), subject: 'Standup', body: { text: 'Starts in 5 minutes' } })]);
  });
});
