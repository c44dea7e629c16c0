/**
 * The fan-out and broadcast-deliver functions through their consumer, on a local DynamoDB (the
 * real protocol): malformed messages dropped, steps and recipients to see again requeued as new
 * delayed messages (the originals deleted), failures hidden for the retry policy's backoff by
 * receive count. SQS and SES are mocked: what is asserted is what the functions ask of them.
 */
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { rowKey } from '../../../shared/adapters/delivery-units.ts';
import { DynamoBroadcastRecipientStore } from '../../../shared/adapters/dynamo-broadcast-recipient-store.ts';
import { DynamoBroadcastStore } from '../../../shared/adapters/dynamo-broadcast-store.ts';
import { DynamoInboxStore } from '../../../shared/adapters/dynamo-inbox-store.ts';
import { DynamoRecipientStore } from '../../../shared/adapters/dynamo-recipient-store.ts';
import { zeroCounts } from '../../../shared/domain/broadcast.ts';
import type { Broadcast } from '../../../shared/domain/broadcast.ts';
import { newBroadcastId } from '../../../shared/domain/ids.ts';
import { aLambdaContext, anSqsRecord } from '../fakes/lambda.ts';
import { aRecipient } from '../fakes/fixtures.ts';
import { localFunctionEnv } from '../support/function-env.ts';
import { startLocalDynamo } from '../support/local-dynamo.ts';

// Config and clients are read once per process: set the environment before the handlers load.
const dynamo = await startLocalDynamo({ withTables: true });
Object.assign(process.env, localFunctionEnv(dynamo.endpoint, { HERALD_RETRY_BASE_SECONDS: '10', HERALD_RETRY_JITTER: '0' }));
const fanout = await import('../../../functions/fanout/handler.ts');
const deliver = await import('../../../functions/broadcast-deliver/handler.ts');

const broadcasts = new DynamoBroadcastStore(dynamo.documentClient, 'broadcasts');
const rows = new DynamoBroadcastRecipientStore(dynamo.documentClient, 'broadcast-recipients', { retentionDays: 90 });
const recipients = new DynamoRecipientStore(dynamo.documentClient, 'recipients', () => 'memberships');
const inbox = new DynamoInboxStore(dynamo.documentClient, 'inbox', () => 'recipients');
const sqsMock = mockClient(SQSClient);
const sesMock = mockClient(SESClient);
const context = aLambdaContext('herald-test-broadcasts');
let tenants = 0;
let tenantId = 'acme';

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  sqsMock.reset();
  sesMock.reset();
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] }));
  sesMock.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
  tenantId = `tenant${++tenants}`;
  await recipients.put(aRecipient({ tenantId, id: 'bob', email: 'bob@example.com' }));
});

function aBatch(body: string, receives = 1): SQSEvent {
  const record = anSqsRecord('m1', body);
  return { Records: [{ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: String(receives) } }] };
}

function aBroadcast(overrides: Partial<Broadcast> = {}): Broadcast {
  const now = new Date();
  return {
    tenantId,
    id: newBroadcastId(now),
    createdBy: 'sam',
    title: 'Maintenance',
    type: 'system',
    priority: 'normal',
    channels: ['inbox', 'email'],
    audience: { kind: 'recipients', count: 1 },
    status: 'scheduled',
    scheduledAt: now.toISOString(),
    createdAt: now.toISOString(),
    counts: zeroCounts,
    run: 0,
    ...overrides,
  };
}

/** A sending broadcast to bob, with his pending row. */
async function sendingToBob(): Promise<string> {
  const b = aBroadcast();
  await broadcasts.create(b, { message: 'Tonight at 2am' }, ['bob']);
  await broadcasts.start(tenantId, b.id, new Date());
  await rows.putPending(tenantId, b.id, ['bob'], new Date());
  return b.id;
}

function requeued(): { MessageBody?: string; DelaySeconds?: number }[] {
  return sqsMock.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []);
}

describe('the fanout handler', () => {
  it('drops a malformed message instead of cycling it to the DLQ', async () => {
    // Act
    const result = await fanout.handler(aBatch('{"kind":"explode"}'), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('puts a start that came before its time back on the queue as a new message delayed until then, and lets the original go', async () => {
    // Prepare
    const b = aBroadcast({ scheduledAt: new Date(Date.now() + 45_000).toISOString() });
    await broadcasts.create(b, { message: 'Tonight' }, ['bob']);
    const body = JSON.stringify({ kind: 'start', tenantId, broadcastId: b.id });

    // Act
    const result = await fanout.handler(aBatch(body), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    // Back up to a few seconds before its time (the last two it waits for in the worker), never after.
    expect(requeued()).toEqual([{ Id: '0', MessageBody: body, DelaySeconds: expect.toSatisfy((s: number) => s >= 38 && s <= 43) }]);
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: process.env.HERALD_QUEUE_FANOUT_URL });
    expect(sqsMock).not.toHaveReceivedCommand(ChangeMessageVisibilityCommand);
    expect((await broadcasts.get(tenantId, b.id))?.status).toBe('scheduled');
  });

  it('backs a failed step off by the retry policy, from its receive count', async () => {
    // Prepare: DynamoDB cannot be reached (a mock only here: the local one cannot fail on demand)
    const dbMock = mockClient(DynamoDBDocumentClient);
    dbMock.on(GetCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));

    // Act
    const result = await fanout.handler(aBatch(JSON.stringify({ kind: 'count', tenantId, broadcastId: newBroadcastId(new Date()) }), 2), context).finally(() => dbMock.restore());

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { QueueUrl: process.env.HERALD_QUEUE_FANOUT_URL, VisibilityTimeout: 20 });
  });

  it('deletes a step that is done', async () => {
    // Act: a count for a broadcast that does not exist has nothing to do
    const result = await fanout.handler(aBatch(JSON.stringify({ kind: 'count', tenantId, broadcastId: newBroadcastId(new Date()) })), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });
});

describe('the broadcast-deliver handler', () => {
  it('drops a malformed message', async () => {
    // Act
    const result = await deliver.handler(aBatch(JSON.stringify({ tenantId, broadcastId: newBroadcastId(new Date()), recipientIds: [] })), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('delivers to the recipients a message names and deletes it', async () => {
    // Prepare
    const id = await sendingToBob();

    // Act
    const result = await deliver.handler(aBatch(JSON.stringify({ tenantId, broadcastId: id, recipientIds: ['bob'] })), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect((await rows.getMany(tenantId, id, ['bob']))[0]).toMatchObject({ status: 'sent', attempts: 1 });
    expect((await inbox.list(tenantId, 'bob')).map((i) => i.notificationId)).toEqual([id]);
    expect(sesMock).toHaveReceivedCommandTimes(SendEmailCommand, 1);
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('puts a recipient another worker holds back on the queue, alone, for when its lease ends', async () => {
    // Prepare: carol is another worker's for 30 s more
    await recipients.put(aRecipient({ tenantId, id: 'carol' }));
    const id = await sendingToBob();
    await rows.putPending(tenantId, id, ['carol'], new Date());
    await dynamo.documentClient.send(
      new UpdateCommand({
        TableName: 'broadcast-recipients',
        Key: rowKey(tenantId, id, 'carol'),
        UpdateExpression: 'SET #status = :sending, leaseUntil = :until, attempts = :one',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':sending': 'sending', ':until': Date.now() + 30_000, ':one': 1 },
      }),
    );
    const message = { tenantId, broadcastId: id, recipientIds: ['bob', 'carol'] };

    // Act
    const result = await deliver.handler(aBatch(JSON.stringify(message)), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const [entry] = requeued();
    expect(JSON.parse(entry?.MessageBody ?? '{}')).toEqual({ ...message, recipientIds: ['carol'] });
    expect(entry?.DelaySeconds).toBeGreaterThanOrEqual(28);
    expect(entry?.DelaySeconds).toBeLessThanOrEqual(30);
    expect((await rows.getMany(tenantId, id, ['bob']))[0]?.status).toBe('sent');
  });

  it('keeps a message whose delivery failed, hidden for the backoff', async () => {
    // Prepare: DynamoDB cannot be reached
    const dbMock = mockClient(DynamoDBDocumentClient);
    dbMock.on(BatchGetCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }));

    // Act
    const result = await deliver.handler(aBatch(JSON.stringify({ tenantId, broadcastId: newBroadcastId(new Date()), recipientIds: ['bob'] })), context).finally(() => dbMock.restore());

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { QueueUrl: process.env.HERALD_QUEUE_BROADCAST_DELIVERY_URL, VisibilityTimeout: 10 });
  });

  it('keeps a message whose cancel of a row could not be written, hidden for the backoff, with the rows that were cancelled counted', async () => {
    // Prepare: a cancelled broadcast to bob and carol, their rows pending; the cancel of carol's row is throttled
    await recipients.put(aRecipient({ tenantId, id: 'carol' }));
    const b = aBroadcast({ audience: { kind: 'recipients', count: 2 } });
    await broadcasts.create(b, { message: 'Tonight at 2am' }, ['bob', 'carol']);
    await broadcasts.start(tenantId, b.id, new Date());
    await rows.putPending(tenantId, b.id, ['bob', 'carol'], new Date());
    await broadcasts.cancel(tenantId, b.id, new Date());
    const carol = JSON.stringify(rowKey(tenantId, b.id, 'carol'));
    const send = DynamoDBDocumentClient.prototype.send;
    const spy = vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(function (this: DynamoDBDocumentClient, command: unknown) {
      const update = command instanceof TransactWriteCommand ? command.input.TransactItems?.[0]?.Update : undefined;
      if (update && JSON.stringify(update.Key) === carol) return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      return (send as (c: unknown) => Promise<unknown>).call(this, command);
    } as typeof send);

    // Act
    const result = await deliver.handler(aBatch(JSON.stringify({ tenantId, broadcastId: b.id, recipientIds: ['bob', 'carol'] })), context).finally(() => spy.mockRestore());

    // Assess: the message fails under the retry policy; bob's row is cancelled and counted, carol's still pending
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { QueueUrl: process.env.HERALD_QUEUE_BROADCAST_DELIVERY_URL, VisibilityTimeout: 10 });
    expect(requeued()).toEqual([]);
    expect((await rows.getMany(tenantId, b.id, ['bob', 'carol'])).map((row) => [row.recipientId, row.status]).sort()).toEqual([
      ['bob', 'cancelled'],
      ['carol', 'pending'],
    ]);
    expect((await broadcasts.get(tenantId, b.id))?.counts.cancelled).toBe(1);
  });

  it('deletes a message whose recipients are all final, sending nothing again', async () => {
    // Prepare
    const id = await sendingToBob();
    const body = JSON.stringify({ tenantId, broadcastId: id, recipientIds: ['bob'] });
    await deliver.handler(aBatch(body), context);
    sqsMock.resetHistory();
    sesMock.resetHistory();

    // Act
    const result = await deliver.handler(aBatch(body), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sesMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });
});
