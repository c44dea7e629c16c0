import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { RedrivePartlyFailedError, SqsDeadLetterQueues } from '../../../../shared/adapters/sqs-dead-letter-queues.ts';
import type { DeadLetterQueueConfig } from '../../../../shared/config.ts';
import { ConflictError, NotFoundError } from '../../../../shared/errors.ts';

const sqsMock = mockClient(SQSClient);
const queues: DeadLetterQueueConfig[] = [
  { name: 'delivery-dlq', url: 'https://sqs/dlq', redriveTo: { name: 'delivery', url: 'https://sqs/delivery' } },
  { name: 'metrics-dlq', url: 'https://sqs/metrics-dlq' },
];

function adapter(now = (): number => 0): SqsDeadLetterQueues {
  return new SqsDeadLetterQueues(new SQSClient({ region: 'eu-west-1' }), queues, now);
}

describe('the dead-letter queues on SQS', () => {
  beforeEach(() => {
    sqsMock.reset();
  });

  it('reads the depth of every queue, waiting and in flight', async () => {
    // Prepare
    sqsMock.on(GetQueueAttributesCommand, { QueueUrl: 'https://sqs/dlq' }).resolves({ Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '1' } });
    sqsMock.on(GetQueueAttributesCommand, { QueueUrl: 'https://sqs/metrics-dlq' }).resolves({ Attributes: {} });

    // Act
    const depths = await adapter().depths();

    // Assess
    expect(depths).toEqual([
      { name: 'delivery-dlq', redriveTo: 'delivery', messages: 3, inFlight: 1 },
      { name: 'metrics-dlq', messages: 0, inFlight: 0 },
    ]);
  });

  it('deletes only what reached the destination, and says so when a batch got there in part', async () => {
    // Prepare
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
    sqsMock.on(ReceiveMessageCommand).resolves({
      Messages: [
        { Body: 'a', ReceiptHandle: 'r0', MessageAttributes: { HeraldDeadLetterReason: { DataType: 'String', StringValue: 'x' } } },
        { Body: 'b', ReceiptHandle: 'r1' },
      ],
    });
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: '' }], Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }] });
    sqsMock.on(DeleteMessageBatchCommand).resolves({});

    // Act
    const redriving = adapter().redrive('delivery-dlq', Number.POSITIVE_INFINITY);

    // Assess
    await expect(redriving).rejects.toThrow(RedrivePartlyFailedError);
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: 'https://sqs/delivery',
      Entries: [
        { Id: '0', MessageBody: 'a', MessageAttributes: { HeraldDeadLetterReason: { DataType: 'String', StringValue: 'x' } } },
        { Id: '1', MessageBody: 'b' },
      ],
    });
    expect(sqsMock).toHaveReceivedCommandExactlyOnceWith(DeleteMessageBatchCommand, { QueueUrl: 'https://sqs/dlq', Entries: [{ Id: '0', ReceiptHandle: 'r0' }] });
  });

  it('keeps moving while receives bring messages, though the approximate count says the queue is empty', async () => {
    // Prepare: a stale count, as SQS may answer just after a visibility timeout ran out.
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' } });
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [{ MessageId: 'd0', Body: 'a', ReceiptHandle: 'r0' }, { MessageId: 'd1', Body: 'b', ReceiptHandle: 'r1' }] })
      .resolves({});
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: '' }, { Id: '1', MessageId: 'm1', MD5OfMessageBody: '' }] });
    sqsMock.on(DeleteMessageBatchCommand).resolves({});

    // Act
    const result = await adapter().redrive('delivery-dlq', Number.POSITIVE_INFINITY);

    // Assess
    expect(result.moved).toBe(2);
    expect(sqsMock).toHaveReceivedCommandWith(DeleteMessageBatchCommand, { QueueUrl: 'https://sqs/dlq', Entries: [{ Id: '0', ReceiptHandle: 'r0' }, { Id: '1', ReceiptHandle: 'r1' }] });
  });

  it('does not move twice in one call a message that failed again and came straight back, and leaves it visible', async () => {
    // Prepare: SQS keeps a message's id when it dead-letters it.
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [{ MessageId: 'd0', Body: 'a', ReceiptHandle: 'r0' }] })
      .resolves({ Messages: [{ MessageId: 'm0', Body: 'a', ReceiptHandle: 'r1' }] });
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: '' }] });
    sqsMock.on(DeleteMessageBatchCommand).resolves({});
    sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({});

    // Act
    const result = await adapter().redrive('delivery-dlq', Number.POSITIVE_INFINITY);

    // Assess
    expect(result.moved).toBe(1);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityBatchCommand, {
      QueueUrl: 'https://sqs/dlq',
      Entries: [{ Id: '0', ReceiptHandle: 'r1', VisibilityTimeout: 0 }],
    });
  });

  it('starts no batch past its deadline, and answers what is left', async () => {
    // Prepare
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '25' } });

    // Act
    const result = await adapter(() => 1_000).redrive('delivery-dlq', 1_000);

    // Assess
    expect(result).toEqual({ name: 'delivery-dlq', redriveTo: 'delivery', moved: 0, remaining: 25 });
    expect(sqsMock).not.toHaveReceivedCommand(ReceiveMessageCommand);
  });

  it('refuses a queue whose messages cannot be moved back, and one it does not know', async () => {
    await expect(adapter().redrive('metrics-dlq', Number.POSITIVE_INFINITY)).rejects.toThrow(ConflictError);
    await expect(adapter().redrive('fanout', Number.POSITIVE_INFINITY)).rejects.toThrow(NotFoundError);
    expect(sqsMock).not.toHaveReceivedCommand(ReceiveMessageCommand);
  });
});
