/**
 * The fan-out and broadcast-deliver functions through their consumer, on the local DynamoDB, SQS
 * and SES (their faultable endpoints, as the functions call them), with messages really received
 * from their queues: malformed messages dropped, steps and recipients to see again requeued as new
 * delayed messages (the originals deleted), failures hidden for the retry policy's backoff by
 * receive count. A delay or a hiding is proven by receiving from the queue as SQS's clock stands
 * just before and just after it ends: SQS counts both in whole seconds, so a message absent n - 1 s
 * from now and there n s from now was put off n s.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { faultResponse } from '../../../local/aws-call-hook.ts';
import type { QueueName } from '../../../lib/app-description.ts';
import { rowKey } from '../../../shared/adapters/delivery-units.ts';
import { DynamoBroadcastRecipientStore } from '../../../shared/adapters/dynamo-broadcast-recipient-store.ts';
import { DynamoBroadcastStore } from '../../../shared/adapters/dynamo-broadcast-store.ts';
import { DynamoInboxStore } from '../../../shared/adapters/dynamo-inbox-store.ts';
import { DynamoRecipientStore } from '../../../shared/adapters/dynamo-recipient-store.ts';
import { zeroCounts } from '../../../shared/domain/broadcast.ts';
import type { Broadcast } from '../../../shared/domain/broadcast.ts';
import { newBroadcastId } from '../../../shared/domain/ids.ts';
import { aLambdaContext } from '../fakes/lambda.ts';
import { aRecipient } from '../fakes/fixtures.ts';
import { startLocalAws, withoutSesSendBudget } from '../support/local-aws.ts';

// Config and clients are read once per process: set the environment before the handlers load.
const aws = await startLocalAws({ sqs: true, ses: true, extra: { HERALD_RETRY_BASE_SECONDS: '10', HERALD_RETRY_JITTER: '0' } });
const dynamo = aws.dynamo;
Object.assign(process.env, aws.env);
const fanout = await import('../../../functions/fanout/handler.ts');
const deliver = await import('../../../functions/broadcast-deliver/handler.ts');
await withoutSesSendBudget(aws, (await import('../../../shared/adapters/dependencies/send-budgets.ts')).loadSendBudgets);

const broadcasts = new DynamoBroadcastStore(dynamo.documentClient, 'broadcasts');
const rows = new DynamoBroadcastRecipientStore(dynamo.documentClient, 'broadcast-recipients', { retentionDays: 90 });
const recipients = new DynamoRecipientStore(dynamo.documentClient, 'recipients', () => 'memberships');
const inbox = new DynamoInboxStore(dynamo.documentClient, 'inbox', () => 'recipients');
const context = aLambdaContext('herald-test-broadcasts');
let tenants = 0;
let tenantId = 'acme';

const throttled = { statusCode: 400, code: 'ThrottlingException', message: 'Rate exceeded' };
const unreachable = { statusCode: 500, code: 'InternalServerError', message: 'Internal server error' };

afterAll(async () => {
  await aws.stop();
});

beforeEach(async () => {
  await aws.purgeQueues();
  aws.calls.reset();
  aws.dynamoFront.reset();
  tenantId = `tenant${++tenants}`;
  await recipients.put(aRecipient({ tenantId, id: 'bob', email: 'bob@example.com' }));
});

/** `body` as the function receives it from `queue`, on its `receives`-th receive. */
async function aBatch(queue: QueueName, body: string, receives = 1): Promise<SQSEvent> {
  return { Records: [await aws.received(queue, body, receives)] };
}

/** Invokes `handler` as the event source mapping of `queue` does: the messages not reported failed are then deleted. */
async function invoke(queue: QueueName, handler: (event: SQSEvent, context: ReturnType<typeof aLambdaContext>) => Promise<unknown>, event: SQSEvent): Promise<SQSBatchResponse> {
  const result = (await handler(event, context)) as SQSBatchResponse;
  await aws.settle(queue, event, result);
  return result;
}

/** The bodies on `queue` as a receive `afterMs` from now would take them. */
async function onQueueAfter(queue: QueueName, afterMs: number): Promise<string[]> {
  return (await aws.receive(queue, afterMs)).map((m) => m.Body ?? '');
}

/** The one failure of a batch of one. */
function failureOf(event: SQSEvent): SQSBatchResponse {
  return { batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId ?? '' }] };
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

describe('the fanout handler', () => {
  it('drops a malformed message instead of cycling it to the DLQ', async () => {
    // Prepare
    const event = await aBatch('fanout', '{"kind":"explode"}');

    // Act
    const result = await invoke('fanout', fanout.handler, event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(aws.calls.calls('sqs')).toEqual([]);
  });

  it('puts a start that came before its time back on the queue as a new message delayed until then, and lets the original go', async () => {
    // Prepare
    const b = aBroadcast({ scheduledAt: new Date(Date.now() + 45_000).toISOString() });
    await broadcasts.create(b, { message: 'Tonight' }, ['bob']);
    const body = JSON.stringify({ kind: 'start', tenantId, broadcastId: b.id });
    const event = await aBatch('fanout', body);

    // Act
    const result = await invoke('fanout', fanout.handler, event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    // Back up to a few seconds before its time (the last two it waits for in the worker), never
    // after; nothing held in flight (no visibility change)
    expect(await onQueueAfter('fanout', 37_000)).toEqual([]);
    expect(await onQueueAfter('fanout', 43_000)).toEqual([body]);
    expect(aws.calls.calls('sqs')).toEqual(['SendMessageBatch']);
    expect((await broadcasts.get(tenantId, b.id))?.status).toBe('scheduled');
  });

  it('backs a failed step off by the retry policy, from its receive count', async () => {
    // Prepare: DynamoDB throttles every read
    const body = JSON.stringify({ kind: 'count', tenantId, broadcastId: newBroadcastId(new Date()) });
    const event = await aBatch('fanout', body, 2);
    aws.calls.fail('dynamodb', 'GetItem', throttled);

    // Act
    const result = await invoke('fanout', fanout.handler, event);

    // Assess: hidden for 20 s, the second receive's backoff
    expect(result).toEqual(failureOf(event));
    expect(await onQueueAfter('fanout', 19_000)).toEqual([]);
    expect(await onQueueAfter('fanout', 20_000)).toEqual([body]);
  });

  it('deletes a step that is done', async () => {
    // Prepare: a count for a broadcast that does not exist has nothing to do
    const event = await aBatch('fanout', JSON.stringify({ kind: 'count', tenantId, broadcastId: newBroadcastId(new Date()) }));

    // Act
    const result = await invoke('fanout', fanout.handler, event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(aws.calls.calls('sqs')).toEqual([]);
    expect(await onQueueAfter('fanout', 900_000)).toEqual([]);
  });
});

describe('the broadcast-deliver handler', () => {
  it('drops a malformed message', async () => {
    // Prepare
    const event = await aBatch('broadcast-delivery', JSON.stringify({ tenantId, broadcastId: newBroadcastId(new Date()), recipientIds: [] }));

    // Act
    const result = await invoke('broadcast-delivery', deliver.handler, event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(aws.calls.calls('sqs')).toEqual([]);
  });

  it('delivers to the recipients a message names and deletes it', async () => {
    // Prepare
    const id = await sendingToBob();
    const event = await aBatch('broadcast-delivery', JSON.stringify({ tenantId, broadcastId: id, recipientIds: ['bob'] }));

    // Act
    const result = await invoke('broadcast-delivery', deliver.handler, event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect((await rows.getMany(tenantId, id, ['bob']))[0]).toMatchObject({ status: 'sent', attempts: 1 });
    expect((await inbox.list(tenantId, 'bob')).map((i) => i.notificationId)).toEqual([id]);
    expect(aws.calls.calls('ses')).toEqual(['SendEmail']);
    expect(aws.calls.calls('sqs')).toEqual([]);
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
    const event = await aBatch('broadcast-delivery', JSON.stringify(message));

    // Act
    const result = await invoke('broadcast-delivery', deliver.handler, event);

    // Assess: back on the queue for 28 to 30 s
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await onQueueAfter('broadcast-delivery', 27_000)).toEqual([]);
    const requeued = await onQueueAfter('broadcast-delivery', 30_000);
    expect(requeued.map((body) => JSON.parse(body) as unknown)).toEqual([{ ...message, recipientIds: ['carol'] }]);
    expect((await rows.getMany(tenantId, id, ['bob']))[0]?.status).toBe('sent');
  });

  it('keeps a message whose delivery failed, hidden for the backoff', async () => {
    // Prepare: DynamoDB cannot be reached
    const body = JSON.stringify({ tenantId, broadcastId: newBroadcastId(new Date()), recipientIds: ['bob'] });
    const event = await aBatch('broadcast-delivery', body);
    aws.calls.fail('dynamodb', 'BatchGetItem', unreachable);

    // Act
    const result = await invoke('broadcast-delivery', deliver.handler, event);

    // Assess: hidden for 10 s, the first receive's backoff
    expect(result).toEqual(failureOf(event));
    expect(await onQueueAfter('broadcast-delivery', 9_000)).toEqual([]);
    expect(await onQueueAfter('broadcast-delivery', 10_000)).toEqual([body]);
  });

  it('keeps a message whose cancel of a row could not be written, hidden for the backoff, with the rows that were cancelled counted', async () => {
    // Prepare: a cancelled broadcast to bob and carol, their rows pending; the cancel of carol's row is throttled
    await recipients.put(aRecipient({ tenantId, id: 'carol' }));
    const b = aBroadcast({ audience: { kind: 'recipients', count: 2 } });
    await broadcasts.create(b, { message: 'Tonight at 2am' }, ['bob', 'carol']);
    await broadcasts.start(tenantId, b.id, new Date());
    await rows.putPending(tenantId, b.id, ['bob', 'carol'], new Date());
    await broadcasts.cancel(tenantId, b.id, new Date());
    const carol = JSON.stringify(marshall(rowKey(tenantId, b.id, 'carol')));
    aws.dynamoFront.intercept(
      'TransactWriteItems',
      (call) => {
        const first = (call.input as { TransactItems?: { Update?: { Key?: unknown } }[] }).TransactItems?.[0]?.Update;
        return JSON.stringify(first?.Key) === carol ? faultResponse('dynamodb', 'awsJson', throttled) : undefined;
      },
      Number.POSITIVE_INFINITY,
    );
    const body = JSON.stringify({ tenantId, broadcastId: b.id, recipientIds: ['bob', 'carol'] });
    const event = await aBatch('broadcast-delivery', body);

    // Act
    const result = await invoke('broadcast-delivery', deliver.handler, event);

    // Assess: the message fails under the retry policy (hidden for 10 s, nothing requeued); bob's
    // row is cancelled and counted, carol's still pending
    expect(result).toEqual(failureOf(event));
    expect(await onQueueAfter('broadcast-delivery', 9_000)).toEqual([]);
    expect(await onQueueAfter('broadcast-delivery', 10_000)).toEqual([body]);
    expect(aws.calls.calls('sqs')).not.toContain('SendMessageBatch');
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
    await invoke('broadcast-delivery', deliver.handler, await aBatch('broadcast-delivery', body));
    const again = await aBatch('broadcast-delivery', body);
    aws.calls.reset();

    // Act
    const result = await invoke('broadcast-delivery', deliver.handler, again);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(aws.calls.calls('ses')).toEqual([]);
    expect(aws.calls.calls('sqs')).toEqual([]);
  });
});
