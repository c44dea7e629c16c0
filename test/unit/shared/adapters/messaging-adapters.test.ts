import {
  ApiGatewayManagementApiClient,
  ForbiddenException,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewaySocketPoster } from '../../../../shared/adapters/api-gateway-socket-poster.ts';
import { SesMailer } from '../../../../shared/adapters/ses-mailer.ts';

const gatewayMock = mockClient(ApiGatewayManagementApiClient);
const sesMock = mockClient(SESClient);
const sqsMock = mockClient(SQSClient);

beforeEach(() => {
  gatewayMock.reset();
  sesMock.reset();
  sqsMock.reset();
});

function aPoster(): ApiGatewaySocketPoster {
  return new ApiGatewaySocketPoster(new ApiGatewayManagementApiClient({ region: 'eu-west-1', endpoint: 'https://ws.example.com/prod' }));
}

describe('ApiGatewaySocketPoster', () => {
  it('posts the payload as JSON to the connection', async () => {
    // Prepare
    const poster = aPoster();
    gatewayMock.on(PostToConnectionCommand).resolves({});

    // Act
    const result = await poster.post('conn-1', { type: 'pong' });

    // Assess
    expect(result).toBe('posted');
    const input = gatewayMock.commandCalls(PostToConnectionCommand)[0]?.args[0].input;
    expect(input?.ConnectionId).toBe('conn-1');
    expect(new TextDecoder().decode(input?.Data as Uint8Array)).toBe('{"type":"pong"}');
  });

  it('says gone when the gateway answers 410 GoneException', async () => {
    // Prepare
    const poster = aPoster();
    gatewayMock.on(PostToConnectionCommand).rejects(new GoneException({ message: 'Gone', $metadata: { httpStatusCode: 410 } }));

    // Act
    const result = await poster.post('stale', { type: 'pong' });

    // Assess
    expect(result).toBe('gone');
  });

  it('passes on any other failure', async () => {
    // Prepare
    const poster = aPoster();
    gatewayMock.on(PostToConnectionCommand).rejects(new ForbiddenException({ message: 'Forbidden', $metadata: { httpStatusCode: 403 } }));

    // Act
    const result = poster.post('conn-1', {});

    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenException);
  });
});

describe('SesMailer', () => {
  it('sends a UTF-8 text email from the configured sender', async () => {
    // Prepare
    const mailer = new SesMailer(() => new SESClient({ region: 'eu-west-1' }), 'herald@example.com');
    sesMock.on(SendEmailCommand).resolves({ MessageId: 'm1' });

    // Act
    await mailer.send({ to: 'bob@example.com', subject: 'Standup', text: 'Starts in 5 minutes' });

    // Assess
    expect(sesMock).toHaveReceivedCommandExactlyOnceWith(SendEmailCommand, {
      Source: 'herald@example.com',
      Destination: { ToAddresses: ['bob@example.com'] },
      Message: {
        Subject: { Data: 'Standup', Charset: 'UTF-8' },
        Body: { Text: { Data: 'Starts in 5 minutes', Charset: 'UTF-8' } },
      },
    });
  });
});
