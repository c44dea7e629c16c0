import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
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

  it('takes a body with characters above U+FFFF, as SQS does, and still refuses those SQS refuses', async () => {
    // Prepare
    const sqs = await startSqsEmulator();
    const client = new SQSClient({ endpoint: sqs.endpoint, region, credentials });
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'unicode' }));
    const body = JSON.stringify({ recipientId: '😀emoji', title: 'Café 𝄞' });

    // Act
    const sent = await client.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
    const batch = await client.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'a', MessageBody: '🎉' }, { Id: 'b', MessageBody: 'nul \u0000 here' }] }));
    const refused = await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'lone \ud800 half' })).catch((error: unknown) => error);
    const received = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 })).finally(async () => {
      client.destroy();
      await sqs.stop();
    });

    // Assess
    expect(sent.MessageId).toBeDefined();
    expect(batch.Successful?.map((entry) => entry.Id)).toEqual(['a']);
    expect(batch.Failed?.map((entry) => [entry.Id, entry.Code])).toEqual([['b', 'InvalidMessageContents']]);
    expect((refused as Error).name).toMatch(/InvalidMessageContents$/);
    expect(received.Messages?.map((message) => message.Body).sort()).toEqual([body, '🎉'].sort());
  });

  it('starts without a faultable endpoint unless asked for one', async () => {
    // Act
    const sqs = await startSqsEmulator();
    await sqs.stop();

    // Assess
    expect(sqs.faultableEndpoint).toBeUndefined();
    expect(sqs.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('counts a message whose visibility timeout ran out as visible again, without a receive first, as SQS does', async () => {
    // Prepare: a message received with a one-second visibility timeout, then left to expire.
    const emulator = await startSqsEmulator();
    const sqs = new SQSClient({ endpoint: emulator.endpoint, region, credentials, useQueueUrlAsEndpoint: false });
    try {
      const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'expiring' }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'dead letter' }));
      await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 1 }));
      await new Promise((resolve) => setTimeout(resolve, 1_200));

      // Act
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );

      // Assess
      expect(Attributes).toEqual({ ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '0' });
    } finally {
      sqs.destroy();
      await emulator.stop();
    }
  });

  describe('the 12-hour visibility ceiling, counted from the receive', () => {
    const hour = 3_600_000;

    /** An emulator on a clock the test moves, a queue, and `count` messages received (hidden 12 hours). */
    async function received(count: number): Promise<{ sqs: SQSClient; queueUrl: string; handles: string[]; advance(ms: number): void; stop(): Promise<void> }> {
      let offset = 0;
      const emulator = await startSqsEmulator({ now: () => Date.now() + offset });
      const sqs = new SQSClient({ endpoint: emulator.endpoint, region, credentials, useQueueUrlAsEndpoint: false, maxAttempts: 1 });
      const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'ceiling' }));
      await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: count }, (_, i) => ({ Id: `m${i}`, MessageBody: `message ${i}` })) }));
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: count, VisibilityTimeout: 43_200, WaitTimeSeconds: 1 }));
      return {
        sqs,
        queueUrl: QueueUrl,
        handles: Messages.map((message) => message.ReceiptHandle ?? ''),
        advance: (ms) => void (offset += ms),
        stop: async () => {
          sqs.destroy();
          await emulator.stop();
        },
      };
    }

    it('refuses a ChangeMessageVisibility that would hold a message past 12 hours from its receive, as SQS does', async () => {
      // Prepare
      const queue = await received(1);
      queue.advance(6 * hour);
      const [handle = ''] = queue.handles;

      // Act
      const beyond = queue.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.queueUrl, ReceiptHandle: handle, VisibilityTimeout: 6 * 3600 + 1 }));
      const atTheLimit = queue.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.queueUrl, ReceiptHandle: handle, VisibilityTimeout: 6 * 3600 - 1 }));
      const outcomes = await Promise.allSettled([beyond, atTheLimit]).finally(() => queue.stop());

      // Assess
      expect(outcomes[0]).toMatchObject({
        status: 'rejected',
        reason: {
          name: 'InvalidParameterValue',
          message: 'Value 21601 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]',
          $metadata: { httpStatusCode: 400 },
        },
      });
      expect(outcomes[1]).toMatchObject({ status: 'fulfilled' });
    });

    it('holds the functions\' faultable endpoint to the ceiling too, from a receive made on the plain one', async () => {
      // Prepare: the event-source mapping receives on the plain endpoint, the function hides on the faultable one
      let offset = 0;
      const emulator = await startSqsEmulator({ now: () => Date.now() + offset, faultable: { hook: () => undefined } });
      const plain = new SQSClient({ endpoint: emulator.endpoint, region, credentials, useQueueUrlAsEndpoint: false });
      const functions = new SQSClient({ endpoint: emulator.faultableEndpoint ?? '', region, credentials, useQueueUrlAsEndpoint: false, maxAttempts: 1 });
      const { QueueUrl = '' } = await plain.send(new CreateQueueCommand({ QueueName: 'ceiling-faultable' }));
      await plain.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hidden' }));
      const { Messages = [] } = await plain.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 900, WaitTimeSeconds: 1 }));
      offset = 11.5 * hour;

      // Act
      const hide = functions.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: Messages[0]?.ReceiptHandle, VisibilityTimeout: 3600 }));
      const outcome = await Promise.allSettled([hide]).finally(async () => {
        plain.destroy();
        functions.destroy();
        await emulator.stop();
      });

      // Assess
      expect(outcome[0]).toMatchObject({ status: 'rejected', reason: { name: 'InvalidParameterValue' } });
    });

    it('fails only the batch entries that would go past the ceiling, and changes the others', async () => {
      // Prepare
      const queue = await received(2);
      queue.advance(11 * hour);
      const [first = '', second = ''] = queue.handles;

      // Act
      const answer = await queue.sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queue.queueUrl,
            Entries: [
              { Id: 'within', ReceiptHandle: first, VisibilityTimeout: 1800 },
              { Id: 'beyond', ReceiptHandle: second, VisibilityTimeout: 7200 },
            ],
          }),
        )
        .finally(() => queue.stop());

      // Assess
      expect(answer.Successful).toEqual([{ Id: 'within' }]);
      expect(answer.Failed).toEqual([
        {
          Id: 'beyond',
          SenderFault: true,
          Code: 'InvalidParameterValue',
          Message: 'Value 7200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]',
        },
      ]);
    });

    it('answers a batch whose every entry goes past the ceiling with every entry failed', async () => {
      // Prepare
      const queue = await received(1);
      queue.advance(12 * hour);
      const [handle = ''] = queue.handles;

      // Act
      const answer = await queue.sqs
        .send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queue.queueUrl, Entries: [{ Id: 'late', ReceiptHandle: handle, VisibilityTimeout: 1 }] }))
        .finally(() => queue.stop());

      // Assess
      expect(answer.Successful ?? []).toEqual([]);
      expect(answer.Failed?.map((failure) => failure.Code)).toEqual(['InvalidParameterValue']);
    });
  });
});
