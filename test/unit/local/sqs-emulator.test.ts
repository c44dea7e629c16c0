import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSqsEmulator } from '../../../local/sqs-emulator.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('the local SQS (fauxqs built in this process)', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'herald-sqs-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps queues and their messages across a restart on the same data directory', async () => {
    // Prepare
    const first = await startSqsEmulator({ dataDir });
    const before = new SQSClient({ endpoint: first.endpoint, region, credentials });
    const { QueueUrl } = await before.send(new CreateQueueCommand({ QueueName: 'kept' }));
    await before.send(new SendMessageCommand({ QueueUrl, MessageBody: 'survives a restart' }));
    before.destroy();
    await first.stop();

    // Act
    const second = await startSqsEmulator({ dataDir });
    const after = new SQSClient({ endpoint: second.endpoint, region, credentials, useQueueUrlAsEndpoint: false });
    const received = await after.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 })).finally(async () => {
      after.destroy();
      await second.stop();
    });

    // Assess
    expect(received.Messages?.map((message) => message.Body)).toEqual(['survives a restart']);
  });

  it('starts without a faultable endpoint unless asked for one', async () => {
    // Act
    const sqs = await startSqsEmulator();
    await sqs.stop();

    // Assess
    expect(sqs.faultableEndpoint).toBeUndefined();
    expect(sqs.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
