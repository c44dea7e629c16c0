import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  InternalServerException,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeBroadcastScheduler } from '../../../../shared/adapters/eventbridge-broadcast-scheduler.ts';
import { MessagesNotSentError, SqsBroadcastDeliveryQueue, SqsFanoutQueue } from '../../../../shared/adapters/sqs-broadcast-queues.ts';
import type { SchedulerConfig } from '../../../../shared/config.ts';
import type { FanoutMessage } from '../../../../shared/domain/schemas.ts';

const schedulerMock = mockClient(SchedulerClient);
const sqsMock = mockClient(SQSClient);

const fanoutUrl = 'https://sqs.eu-west-1.amazonaws.com/111122223333/herald-fanout';
const config: SchedulerConfig = {
  groupName: 'herald-test',
  roleArn: 'arn:aws:iam::111122223333:role/herald-scheduler',
  targetArn: 'arn:aws:sqs:eu-west-1:111122223333:herald-fanout',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:111122223333:herald-fanout-dlq',
  leadSeconds: 60,
  firesPerSecond: 1000,
};
const now = new Date('2030-01-01T12:00:00.000Z');
const id = 'brd_01JABCDEFGHJKMNPQRSTVWXYZ0';
const ref = { tenantId: 'acme', broadcastId: id };

beforeEach(() => {
  schedulerMock.reset();
  sqsMock.reset();
});

function aScheduler(): EventBridgeBroadcastScheduler {
  return new EventBridgeBroadcastScheduler(new SchedulerClient({ region: 'eu-west-1' }), new SQSClient({ region: 'eu-west-1' }), config, fanoutUrl);
}

describe('EventBridgeBroadcastScheduler', () => {
  it('creates one schedule per broadcast that puts its start on the fan-out queue, the lead time early', async () => {
    // Prepare
    schedulerMock.on(CreateScheduleCommand).resolves({});

    // Act
    await aScheduler().schedule({ tenantId: 'acme', id, scheduledAt: '2030-01-01T14:00:00.000Z' }, now);

    // Assess
    expect(schedulerMock).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Name: id,
      GroupName: 'herald-test',
      ScheduleExpression: 'at(2030-01-01T13:59:00)',
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: config.targetArn,
        RoleArn: config.roleArn,
        Input: JSON.stringify({ kind: 'start', tenantId: 'acme', broadcastId: id }),
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
        DeadLetterConfig: { Arn: config.deadLetterArn },
      },
    });
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('sends a broadcast due within the lead time straight to the fan-out queue, arriving one to two seconds before it is due', async () => {
    // Prepare
    sqsMock.on(SendMessageCommand).resolves({});

    // Act
    await aScheduler().schedule({ tenantId: 'acme', id, scheduledAt: '2030-01-01T12:00:30.200Z' }, now);

    // Assess
    // 30.2 s less the second of lead, rounded down: the fan-out's start waits out the last 1.2 s itself.
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: fanoutUrl, DelaySeconds: 29 });
    expect(schedulerMock).not.toHaveReceivedCommand(CreateScheduleCommand);
  });

  it('replaces a schedule an earlier attempt left under the same name', async () => {
    // Prepare
    schedulerMock
      .on(CreateScheduleCommand)
      .rejectsOnce(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }))
      .resolves({});
    schedulerMock.on(DeleteScheduleCommand).resolves({});

    // Act
    await aScheduler().schedule({ tenantId: 'acme', id, scheduledAt: '2030-01-01T14:00:00.000Z' }, now);

    // Assess
    expect(schedulerMock).toHaveReceivedCommandTimes(CreateScheduleCommand, 2);
    expect(schedulerMock).toHaveReceivedCommandOnce(DeleteScheduleCommand);
  });

  it('takes a schedule already gone as removed, and throws on any other error', async () => {
    // Prepare
    schedulerMock
      .on(DeleteScheduleCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} }))
      .rejectsOnce(new InternalServerException({ message: 'boom', Message: 'boom', $metadata: {} }));

    // Act
    const first = await aScheduler().unschedule({ tenantId: 'acme', id });
    const second = await aScheduler().unschedule({ tenantId: 'acme', id }).catch((error: unknown) => error);

    // Assess
    expect(first).toBeUndefined();
    expect(second).toBeInstanceOf(InternalServerException);
  });
});

describe('the broadcast queues', () => {
  it('sends fan-out steps ten per batch, with the delay asked for (capped at 15 minutes)', async () => {
    // Prepare
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: `m${e.Id}`, MD5OfMessageBody: '' })),
    }));
    const steps: FanoutMessage[] = Array.from({ length: 12 }, (_, shard) => ({ kind: 'dispatch', ...ref, run: 0, shard }));

    // Act
    await new SqsFanoutQueue(new SQSClient({ region: 'eu-west-1' }), fanoutUrl).send(steps, 3_600);

    // Assess
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
    const entries = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []);
    expect(entries).toHaveLength(12);
    expect(new Set(entries.map((e) => e.DelaySeconds))).toEqual(new Set([900]));
  });

  it('sends again what SQS failed on its side, and throws for what it refused', async () => {
    // Prepare
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [{ Id: '0', SenderFault: false, Code: 'InternalError' }, { Id: '1', SenderFault: true, Code: 'InvalidMessageContents' }] })
      .resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }] });
    const queue = new SqsBroadcastDeliveryQueue(new SQSClient({ region: 'eu-west-1' }), fanoutUrl);

    // Act
    const error = await queue
      .enqueue([
        { ...ref, recipientIds: ['a'] },
        { ...ref, recipientIds: ['b'] },
      ])
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(MessagesNotSentError);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[1]?.args[0].input.Entries?.map((e) => e.Id)).toEqual(['0']);
  });
});
