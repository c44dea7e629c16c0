/**
 * The deliver function through its consumer, on a local DynamoDB (the real protocol): malformed
 * messages dropped, due notifications delivered, what must come back requeued as a new delayed
 * message (or a schedule beyond 15 minutes) and the original deleted, failures hidden for the
 * retry policy's backoff by receive count. SQS, SES, the gateway and the scheduler are mocked:
 * what is asserted is what the function asks of them.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoInboxStore } from '../../../shared/adapters/dynamo-inbox-store.ts';
import { DynamoNotificationStore } from '../../../shared/adapters/dynamo-notification-store.ts';
import { DynamoRecipientStore } from '../../../shared/adapters/dynamo-recipient-store.ts';
import { newNotificationId } from '../../../shared/domain/ids.ts';
import type { Notification } from '../../../shared/domain/notification.ts';
import { aLambdaContext, anSqsRecord } from '../fakes/lambda.ts';
import { aNotification, aRecipient } from '../fakes/fixtures.ts';
import { localFunctionEnv } from '../support/function-env.ts';
import { startLocalDynamo } from '../support/local-dynamo.ts';

// Config and clients are read once per process: set the environment before the handler loads.
const dynamo = await startLocalDynamo({ withTables: true });
Object.assign(process.env, localFunctionEnv(dynamo.endpoint, { HERALD_RETRY_JITTER: '0' }));
const { handler } = await import('../../../functions/deliver/handler.ts');

const notifications = new DynamoNotificationStore(dynamo.documentClient, 'notifications');
const recipients = new DynamoRecipientStore(dynamo.documentClient, 'recipients', () => 'memberships');
const inbox = new DynamoInboxStore(dynamo.documentClient, 'inbox', () => 'recipients');
const sqsMock = mockClient(SQSClient);
const sesMock = mockClient(SESClient);
const gatewayMock = mockClient(ApiGatewayManagementApiClient);
const schedulerMock = mockClient(SchedulerClient);
const context = aLambdaContext('herald-test-deliver');
const queueUrl = process.env.HERALD_QUEUE_DELIVERY_URL;
let tenants = 0;
let tenantId = 'acme';

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  sqsMock.reset();
  sesMock.reset();
  gatewayMock.reset();
  schedulerMock.reset();
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] }));
  sesMock.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
  schedulerMock.on(CreateScheduleCommand).resolves({});
  tenantId = `tenant${++tenants}`;
  await recipients.put(aRecipient({ tenantId, id: 'bob', email: 'bob@example.com' }));
});

function aRecord(messageId: string, body: string, receives = 1): SQSRecord {
  const record = anSqsRecord(messageId, body);
  return { ...record, attributes: { ...record.attributes, ApproximateReceiveCount: String(receives) } };
}

function aBatch(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A notification for bob, written to the table, due `inMs` from now. */
async function created(inMs: number, overrides: Partial<Notification> = {}): Promise<Notification> {
  const n = aNotification({ tenantId, id: newNotificationId(new Date()), scheduledAt: new Date(Date.now() + inMs).toISOString(), channels: ['inbox', 'email'], ...overrides });
  await notifications.createMany([n]);
  return n;
}

function messageFor(n: Notification, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ tenantId, notificationId: n.id, ...extra });
}

function requeued(): { MessageBody?: string; DelaySeconds?: number }[] {
  return sqsMock.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []);
}

describe('the deliver handler', () => {
  it.each([
    ['not JSON', 'deliver ntf_x please'],
    ['without a notification id', '{"tenantId":"acme"}'],
    ['with a foreign id', '{"tenantId":"acme","notificationId":"brd_1"}'],
    ['naming no notification', '{"tenantId":"acme","notifications":[]}'],
  ])('drops a malformed message (%s) instead of cycling it to the DLQ', async (_, body) => {
    // Act
    const result = await handler(aBatch(aRecord('m1', body)), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqsMock).not.toHaveReceivedAnyCommand();
    expect(sesMock).not.toHaveReceivedAnyCommand();
  });

  it('delivers a due notification through the AWS adapters and lets the message be deleted', async () => {
    // Prepare
    const n = await created(-1_000);

    // Act
    const result = await handler(aBatch(aRecord('m1', messageFor(n))), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sesMock).toHaveReceivedCommandExactlyOnceWith(SendEmailCommand, { Source: 'herald@example.com', Destination: { ToAddresses: ['bob@example.com'] } });
    expect(await notifications.get(tenantId, n.id)).toMatchObject({
      status: 'sent',
      attempts: 1,
      deliveries: { inbox: { status: 'sent' }, email: { status: 'sent', detail: 'id ses-1' } },
    });
    expect((await inbox.list(tenantId, 'bob')).map((i) => i.notificationId)).toEqual([n.id]);
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('puts a message that came early back on the queue as a new delayed message, unchanged, and lets the original go', async () => {
    // Prepare: a schedule fired two minutes ahead of the notification's time
    const n = await created(120_000);
    const body = messageFor(n, { notBefore: n.scheduledAt });

    // Act
    const result = await handler(aBatch(aRecord('m1', body)), context);

    // Assess: nothing held in flight (no visibility change), the original deleted
    expect(result).toEqual({ batchItemFailures: [] });
    expect(requeued()).toEqual([{ Id: '0', MessageBody: body, DelaySeconds: expect.toSatisfy((s: number) => s >= 118 && s <= 120) }]);
    expect(sqsMock).not.toHaveReceivedCommand(ChangeMessageVisibilityCommand);
    expect(await notifications.get(tenantId, n.id)).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('requeues a notification not yet due for its time, naming that time, when the message did not say', async () => {
    // Prepare: a sweep's message for a notification due in ten minutes
    const n = await created(600_000);

    // Act
    const result = await handler(aBatch(aRecord('m1', messageFor(n))), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const [entry] = requeued();
    expect(JSON.parse(entry?.MessageBody ?? '{}')).toEqual({ tenantId, notificationId: n.id, notBefore: n.scheduledAt });
    expect(entry?.DelaySeconds).toBeGreaterThanOrEqual(598);
    expect(entry?.DelaySeconds).toBeLessThanOrEqual(600);
  });

  it('puts back a notification due beyond 15 minutes through a one-shot schedule', async () => {
    // Prepare
    const n = await created(3_600_000);

    // Act
    const result = await handler(aBatch(aRecord('m1', messageFor(n))), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageBatchCommand);
    expect(schedulerMock).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
    const input = schedulerMock.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(JSON.parse(input?.Target?.Input ?? '{}')).toMatchObject({ tenantId, notBefore: n.scheduledAt });
    expect(input?.GroupName).toBe('herald-test');
  });

  it('delivers what a message names that is due, and requeues the rest in one message per instant', async () => {
    // Prepare: one due now, two due in five minutes (a schedule's batch, recipients named)
    const due = await created(-1_000);
    const later = [await created(300_000), await created(300_000)];
    const laterAt = Date.parse(later[0]?.scheduledAt ?? '');
    for (const n of later) await notifications.reschedule(tenantId, n.id, new Date(laterAt));
    const body = JSON.stringify({ tenantId, notifications: [due, ...later].map((n) => ({ id: n.id, recipientId: 'bob' })) });

    // Act
    const result = await handler(aBatch(aRecord('m1', body)), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect((await notifications.get(tenantId, due.id))?.status).toBe('sent');
    const entries = requeued();
    expect(entries).toHaveLength(1);
    expect(JSON.parse(entries[0]?.MessageBody ?? '{}')).toEqual({
      tenantId,
      notifications: later.map((n) => ({ id: n.id, recipientId: 'bob' })),
      notBefore: new Date(laterAt).toISOString(),
    });
  });

  it('lets a message go when its notification no longer exists', async () => {
    // Prepare
    const body = JSON.stringify({ tenantId, notificationId: newNotificationId(new Date()) });

    // Act
    const result = await handler(aBatch(aRecord('m1', body)), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('answers each message of a mixed batch: the malformed dropped, the missing and the due done, the early requeued', async () => {
    // Prepare
    const due = await created(-1_000);
    const early = await created(600_000);
    const event = aBatch(
      aRecord('m-gone', JSON.stringify({ tenantId, notificationId: newNotificationId(new Date()) })),
      aRecord('m-early', messageFor(early)),
      aRecord('m-due', messageFor(due)),
      aRecord('m-bad', '{}'),
    );

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(requeued().map((e) => (JSON.parse(e.MessageBody ?? '{}') as { notificationId?: string }).notificationId)).toEqual([early.id]);
    expect((await notifications.get(tenantId, due.id))?.status).toBe('sent');
  });

  it.each([
    [1, 300],
    [2, 600],
  ])('hides every message of a batch whose delivery threw (receive %i) for the policy\'s backoff, %i s', async (receives, seconds) => {
    // Prepare: DynamoDB cannot be reached (a mock only here: the local one cannot be made to fail on demand)
    const n = await created(-1_000);
    const dbMock = mockClient(DynamoDBDocumentClient);
    dbMock.on(BatchGetCommand).rejects(new Error('DynamoDB is unreachable'));

    // Act
    const result = await handler(aBatch(aRecord('m1', messageFor(n), receives), aRecord('m2', messageFor(n), receives)), context).finally(() => dbMock.restore());

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }] });
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { QueueUrl: queueUrl, ReceiptHandle: 'receipt-m1', VisibilityTimeout: seconds });
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { QueueUrl: queueUrl, ReceiptHandle: 'receipt-m2', VisibilityTimeout: seconds });
    expect(sesMock).not.toHaveReceivedAnyCommand();
  });

  it('leaves a message that threw past the policy\'s retries to the visibility timeout and the DLQ', async () => {
    // Prepare: the fifth receive, past the default three retries
    const n = await created(-1_000);
    const dbMock = mockClient(DynamoDBDocumentClient);
    dbMock.on(BatchGetCommand).rejects(new Error('DynamoDB is unreachable'));

    // Act
    const result = await handler(aBatch(aRecord('m1', messageFor(n), 5)), context).finally(() => dbMock.restore());

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('hides a message whose quiet-hours hold could not be written for the backoff, puts its other units back on their own first, and lets the other messages go', async () => {
    // Prepare: carol and dave are in their quiet hours now (two hours more), and the write of
    // carol's hold is throttled; dave's lands. bob's notification, in another message, is due.
    const hour = new Date().getUTCHours();
    const hh = (h: number): string => `${String((h + 24) % 24).padStart(2, '0')}:00`;
    const quiet = { timezone: 'UTC', quietHours: { start: hh(hour - 1), end: hh(hour + 2) } };
    await recipients.put(aRecipient({ tenantId, id: 'carol', email: 'carol@example.com', ...quiet }));
    await recipients.put(aRecipient({ tenantId, id: 'dave', email: 'dave@example.com', ...quiet }));
    const forCarol = await created(-1_000, { recipientId: 'carol' });
    const forDave = await created(-1_000, { recipientId: 'dave' });
    const due = await created(-1_000);
    const send = DynamoDBDocumentClient.prototype.send;
    const spy = vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(function (this: DynamoDBDocumentClient, command: unknown) {
      const update = command instanceof TransactWriteCommand ? command.input.TransactItems?.[0]?.Update : undefined;
      if (update?.UpdateExpression?.includes('heldUntil') && JSON.stringify(update.Key).includes(forCarol.id)) {
        return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      }
      return (send as (c: unknown) => Promise<unknown>).call(this, command);
    } as typeof send);
    const both = JSON.stringify({ tenantId, notifications: [forCarol, forDave].map((n) => ({ id: n.id, recipientId: n.recipientId })) });

    // Act
    const result = await handler(aBatch(aRecord('m1', both), aRecord('m2', messageFor(due))), context).finally(() => spy.mockRestore());

    // Assess: m1 fails under the retry policy (hidden for the first backoff); dave, held, is put
    // back on his own for the end of his quiet hours (beyond 15 minutes: a one-shot schedule)
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { QueueUrl: queueUrl, ReceiptHandle: 'receipt-m1', VisibilityTimeout: 300 });
    const heldDave = await notifications.get(tenantId, forDave.id);
    expect(heldDave).toMatchObject({ status: 'pending' });
    expect(heldDave?.heldUntil).toBeDefined();
    expect(schedulerMock).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
    const input = schedulerMock.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(JSON.parse(input?.Target?.Input ?? '{}')).toMatchObject({ tenantId, notifications: [{ id: forDave.id, recipientId: 'dave' }], notBefore: heldDave?.heldUntil });
    expect((await notifications.get(tenantId, forCarol.id))?.heldUntil).toBeUndefined();
    expect((await notifications.get(tenantId, due.id))?.status).toBe('sent');
  });

  it('keeps the original, hidden for the backoff, when what must come back cannot be put on the queue', async () => {
    // Prepare
    const n = await created(600_000);
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('SQS is unreachable'));

    // Act
    const result = await handler(aBatch(aRecord('m1', messageFor(n))), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { ReceiptHandle: 'receipt-m1', VisibilityTimeout: 300 });
  });
});
