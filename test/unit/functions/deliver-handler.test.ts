/**
 * The deliver function through its consumer, on the local DynamoDB, SQS, SES and Scheduler (their
 * faultable endpoints, as the function calls them), with messages really received from the
 * delivery queue: malformed messages dropped, due notifications delivered, what must come back
 * requeued as a new delayed message (or a schedule beyond 15 minutes) and the original deleted,
 * failures hidden for the retry policy's backoff by receive count. A delay or a hiding is proven
 * by receiving from the queue as SQS's clock stands just before and just after it ends: SQS counts
 * both in whole seconds, so a message absent n - 1 s from now and there n s from now was put off n s.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { faultResponse } from '../../../local/aws-call-hook.ts';
import { DynamoInboxStore } from '../../../shared/adapters/dynamo-inbox-store.ts';
import { DynamoNotificationStore } from '../../../shared/adapters/dynamo-notification-store.ts';
import { DynamoRecipientStore } from '../../../shared/adapters/dynamo-recipient-store.ts';
import { newNotificationId } from '../../../shared/domain/ids.ts';
import type { Notification } from '../../../shared/domain/notification.ts';
import { aLambdaContext } from '../fakes/lambda.ts';
import { aNotification, aRecipient } from '../fakes/fixtures.ts';
import { startLocalAws, withoutSesSendBudget } from '../support/local-aws.ts';

// Config and clients are read once per process: set the environment before the handler loads.
const aws = await startLocalAws({ sqs: true, ses: true, scheduler: true, extra: { HERALD_RETRY_JITTER: '0' } });
Object.assign(process.env, aws.env);
const { handler } = await import('../../../functions/deliver/handler.ts');
await withoutSesSendBudget(aws, (await import('../../../shared/adapters/dependencies/send-budgets.ts')).loadSendBudgets);

const notifications = new DynamoNotificationStore(aws.dynamo.documentClient, 'notifications');
const recipients = new DynamoRecipientStore(aws.dynamo.documentClient, 'recipients', () => 'memberships');
const inbox = new DynamoInboxStore(aws.dynamo.documentClient, 'inbox', () => 'recipients');
const context = aLambdaContext('herald-test-deliver');
const unreachable = { statusCode: 500, code: 'InternalServerError', message: 'Internal server error' };
let tenants = 0;
let tenantId = 'acme';

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

/** `body` as the function receives it from the delivery queue, on its `receives`-th receive. */
function aRecord(body: string, receives = 1): Promise<SQSRecord> {
  return aws.received('delivery', body, receives);
}

function aBatch(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** Invokes the function as the event source mapping does: the messages not reported failed are then deleted. */
async function invoke(event: SQSEvent): Promise<SQSBatchResponse> {
  const result = (await handler(event, context)) as SQSBatchResponse;
  await aws.settle('delivery', event, result);
  return result;
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

/** The bodies on the delivery queue as a receive `afterMs` from now would take them. */
async function onQueueAfter(afterMs: number): Promise<string[]> {
  return (await aws.receive('delivery', afterMs)).map((m) => m.Body ?? '');
}

describe('the deliver handler', () => {
  it.each([
    ['not JSON', 'deliver ntf_x please'],
    ['without a notification id', '{"tenantId":"acme"}'],
    ['with a foreign id', '{"tenantId":"acme","notificationId":"brd_1"}'],
    ['naming no notification', '{"tenantId":"acme","notifications":[]}'],
  ])('drops a malformed message (%s) instead of cycling it to the DLQ', async (_, body) => {
    // Prepare
    const event = aBatch(await aRecord(body));

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(aws.calls.calls('sqs')).toEqual([]);
    expect(aws.calls.calls('ses')).toEqual([]);
  });

  it('delivers a due notification through the AWS adapters and lets the message be deleted', async () => {
    // Prepare
    const n = await created(-1_000);
    const event = aBatch(await aRecord(messageFor(n)));

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const sent = aws.mail().filter((mail) => mail.to.includes('bob@example.com') && mail.at >= Date.now() - 10_000);
    expect(sent.map((mail) => mail.from)).toEqual(['herald@example.com']);
    expect(aws.calls.calls('ses')).toEqual(['SendEmail']);
    expect(await notifications.get(tenantId, n.id)).toMatchObject({
      status: 'sent',
      attempts: 1,
      deliveries: { inbox: { status: 'sent' }, email: { status: 'sent', detail: `id ${sent[0]?.messageId ?? ''}` } },
    });
    expect((await inbox.list(tenantId, 'bob')).map((i) => i.notificationId)).toEqual([n.id]);
    expect(aws.calls.calls('sqs')).toEqual([]);
  });

  it('puts a message that came early back on the queue as a new delayed message, unchanged, and lets the original go', async () => {
    // Prepare: a schedule fired two minutes ahead of the notification's time
    const n = await created(120_000);
    const body = messageFor(n, { notBefore: n.scheduledAt });
    const event = aBatch(await aRecord(body));

    // Act
    const result = await invoke(event);

    // Assess: delayed until its time (a second or two before at most), nothing held in flight (no
    // visibility change), the original deleted
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await onQueueAfter(117_000)).toEqual([]);
    expect(await onQueueAfter(120_000)).toEqual([body]);
    expect(aws.calls.calls('sqs')).toEqual(['SendMessageBatch']);
    expect(await notifications.get(tenantId, n.id)).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('requeues a notification not yet due for its time, naming that time, when the message did not say', async () => {
    // Prepare: a sweep's message for a notification due in ten minutes
    const n = await created(600_000);
    const event = aBatch(await aRecord(messageFor(n)));

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await onQueueAfter(597_000)).toEqual([]);
    const [requeued] = await onQueueAfter(600_000);
    expect(JSON.parse(requeued ?? '{}')).toEqual({ tenantId, notificationId: n.id, notBefore: n.scheduledAt });
  });

  it('puts back a notification due beyond 15 minutes through a one-shot schedule', async () => {
    // Prepare
    const n = await created(3_600_000);
    const event = aBatch(await aRecord(messageFor(n)));
    const before = new Set(aws.scheduleNames());

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(aws.calls.calls('sqs')).toEqual([]);
    expect(await onQueueAfter(900_000)).toEqual([]);
    const added = aws.scheduleNames().filter((name) => !before.has(name));
    expect(added).toHaveLength(1);
    const schedule = await aws.schedule(added[0] ?? '');
    expect(JSON.parse(schedule?.Target?.Input ?? '{}')).toMatchObject({ tenantId, notBefore: n.scheduledAt });
    expect(schedule?.Target?.Arn).toBe(process.env.HERALD_QUEUE_DELIVERY_ARN);
  });

  it('delivers what a message names that is due, and requeues the rest in one message per instant', async () => {
    // Prepare: one due now, two due in five minutes (a schedule's batch, recipients named)
    const due = await created(-1_000);
    const later = [await created(300_000), await created(300_000)];
    const laterAt = Date.parse(later[0]?.scheduledAt ?? '');
    for (const n of later) await notifications.reschedule(tenantId, n.id, new Date(laterAt));
    const body = JSON.stringify({ tenantId, notifications: [due, ...later].map((n) => ({ id: n.id, recipientId: 'bob' })) });
    const event = aBatch(await aRecord(body));

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect((await notifications.get(tenantId, due.id))?.status).toBe('sent');
    const requeued = await onQueueAfter(300_000);
    expect(requeued.map((b) => JSON.parse(b) as unknown)).toEqual([
      { tenantId, notifications: later.map((n) => ({ id: n.id, recipientId: 'bob' })), notBefore: new Date(laterAt).toISOString() },
    ]);
  });

  it('lets a message go when its notification no longer exists', async () => {
    // Prepare
    const event = aBatch(await aRecord(JSON.stringify({ tenantId, notificationId: newNotificationId(new Date()) })));

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(aws.calls.calls('sqs')).toEqual([]);
    expect(await onQueueAfter(900_000)).toEqual([]);
  });

  it('answers each message of a mixed batch: the malformed dropped, the missing and the due done, the early requeued', async () => {
    // Prepare
    const due = await created(-1_000);
    const early = await created(600_000);
    const event = aBatch(
      await aRecord(JSON.stringify({ tenantId, notificationId: newNotificationId(new Date()) })),
      await aRecord(messageFor(early)),
      await aRecord(messageFor(due)),
      await aRecord('{}'),
    );

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const requeued = await onQueueAfter(600_000);
    expect(requeued.map((b) => (JSON.parse(b) as { notificationId?: string }).notificationId)).toEqual([early.id]);
    expect((await notifications.get(tenantId, due.id))?.status).toBe('sent');
  });

  it.each([
    [1, 300],
    [2, 600],
  ])('hides every message of a batch whose delivery threw (receive %i) for the policy\'s backoff, %i s', async (receives, seconds) => {
    // Prepare: DynamoDB cannot be reached
    const n = await created(-1_000);
    const event = aBatch(await aRecord(messageFor(n), receives), await aRecord(messageFor(n), receives));
    aws.calls.fail('dynamodb', 'BatchGetItem', unreachable);

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual({ batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) });
    expect(await onQueueAfter((seconds - 1) * 1000)).toEqual([]);
    expect(await onQueueAfter(seconds * 1000)).toEqual([messageFor(n), messageFor(n)]);
    expect(aws.calls.calls('ses')).toEqual([]);
  });

  it('leaves a message that threw past the policy\'s retries to the visibility timeout and the DLQ', async () => {
    // Prepare: the fifth receive, past the default three retries
    const n = await created(-1_000);
    const event = aBatch(await aRecord(messageFor(n), 5));
    aws.calls.fail('dynamodb', 'BatchGetItem', unreachable);

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId }] });
    expect(aws.calls.calls('sqs')).toEqual([]);
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
    aws.dynamoFront.intercept(
      'TransactWriteItems',
      (call) => {
        const request = JSON.stringify(call.input);
        return request.includes('heldUntil') && request.includes(forCarol.id)
          ? faultResponse('dynamodb', 'awsJson', { statusCode: 400, code: 'ThrottlingException', message: 'Rate exceeded' })
          : undefined;
      },
      Number.POSITIVE_INFINITY,
    );
    const both = JSON.stringify({ tenantId, notifications: [forCarol, forDave].map((n) => ({ id: n.id, recipientId: n.recipientId })) });
    const event = aBatch(await aRecord(both), await aRecord(messageFor(due)));
    const before = new Set(aws.scheduleNames());

    // Act
    const result = await invoke(event);

    // Assess: the first message fails under the retry policy (hidden for the first backoff); dave,
    // held, is put back on his own for the end of his quiet hours (beyond 15 minutes: a one-shot schedule)
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId }] });
    expect(await onQueueAfter(299_000)).toEqual([]);
    expect(await onQueueAfter(300_000)).toEqual([both]);
    const heldDave = await notifications.get(tenantId, forDave.id);
    expect(heldDave).toMatchObject({ status: 'pending' });
    expect(heldDave?.heldUntil).toBeDefined();
    const added = aws.scheduleNames().filter((name) => !before.has(name));
    expect(added).toHaveLength(1);
    const schedule = await aws.schedule(added[0] ?? '');
    expect(JSON.parse(schedule?.Target?.Input ?? '{}')).toMatchObject({ tenantId, notifications: [{ id: forDave.id, recipientId: 'dave' }], notBefore: heldDave?.heldUntil });
    expect((await notifications.get(tenantId, forCarol.id))?.heldUntil).toBeUndefined();
    expect((await notifications.get(tenantId, due.id))?.status).toBe('sent');
  });

  it('keeps the original, hidden for the backoff, when what must come back cannot be put on the queue', async () => {
    // Prepare
    const n = await created(600_000);
    const event = aBatch(await aRecord(messageFor(n)));
    aws.calls.fail('sqs', 'SendMessageBatch', { statusCode: 503, code: 'ServiceUnavailable', message: 'Service Unavailable' });

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId }] });
    expect(await onQueueAfter(299_000)).toEqual([]);
    expect(await onQueueAfter(300_000)).toEqual([messageFor(n)]);
  });
});
