import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DUE_INDEX_SHARDS } from '../../../../lib/app-description.ts';
import { DynamoNotificationStore, cancelledShard, dueShard } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { ClaimLostError } from '../../../../shared/ports.ts';
import type { Claim } from '../../../../shared/ports.ts';
import { aNotification } from '../../fakes/fixtures.ts';

const dbMock = mockClient(DynamoDBDocumentClient);
const tableName = 'herald-test-notifications';
const now = new Date('2030-01-01T12:00:00.000Z');

function aStore(): DynamoNotificationStore {
  return new DynamoNotificationStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })), tableName);
}

function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
}

/** A stored item of `n`, with the bookkeeping attributes the table holds. */
function itemOf(n: ReturnType<typeof aNotification>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...n, pk: `${n.tenantId}#${n.id}`, recipientKey: `${n.tenantId}#${n.recipientId}`, dueShard: 'due#3', dueAt: n.scheduledAt, ...extra };
}

function aClaim(): Claim {
  return { notification: aNotification({ status: 'sending', attempts: 1 }), token: 'token-1', leaseUntil: new Date(now.getTime() + 60_000) };
}

beforeEach(() => {
  dbMock.reset();
});

describe('DynamoNotificationStore', () => {
  it('claims with a conditional update: from pending, or from sending whose lease expired', async () => {
    // Prepare
    const store = aStore();
    const n = aNotification();
    dbMock.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => ({
      Attributes: itemOf(n, { status: 'sending', attempts: 1, leaseUntil: now.getTime() + 60_000, claimToken: input.ExpressionAttributeValues[':token'] }),
    }));

    // Act
    const claim = await store.claim('acme', n.id, now, 60);

    // Assess
    expect(dbMock).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: tableName,
      Key: { pk: `acme#${n.id}` },
      ConditionExpression: '#status = :pending OR (#status = :sending AND leaseUntil < :now)',
      UpdateExpression: 'SET #status = :sending, leaseUntil = :leaseUntil, claimToken = :token, attempts = attempts + :one',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':sending': 'sending',
        ':pending': 'pending',
        ':leaseUntil': now.getTime() + 60_000,
        ':now': now.getTime(),
        ':token': expect.any(String),
        ':one': 1,
      },
      ReturnValues: 'ALL_NEW',
    });
    const sentToken = dbMock.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues?.[':token'];
    expect(claim).toEqual({
      notification: { ...n, status: 'sending', attempts: 1, leaseUntil: now.getTime() + 60_000 },
      token: sentToken,
      leaseUntil: new Date(now.getTime() + 60_000),
    });
  });

  it('returns no claim when the condition fails', async () => {
    // Prepare
    const store = aStore();
    dbMock.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const claim = await store.claim('acme', aNotification().id, now, 60);

    // Assess
    expect(claim).toBeUndefined();
  });

  it('passes on any other failure to claim', async () => {
    // Prepare
    const store = aStore();
    dbMock.on(UpdateCommand).rejects(new Error('network down'));

    // Act
    const result = store.claim('acme', aNotification().id, now, 60);

    // Assess
    await expect(result).rejects.toThrow('network down');
  });

  it('marks sent under the claim, leaving the due index and setting the TTL', async () => {
    // Prepare
    const store = aStore();
    const claim = aClaim();
    dbMock.on(UpdateCommand).resolves({ Attributes: itemOf(claim.notification, { status: 'sent' }) });
    const expiresAt = new Date('2030-04-01T12:00:00.900Z');

    // Act
    await store.markSent(claim, now, expiresAt);

    // Assess
    expect(dbMock).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `acme#${claim.notification.id}` },
      UpdateExpression:
        'SET #status = :sent, sentAt = :sentAt, expiresAt = :expiresAt REMOVE leaseUntil, claimToken, dueShard, dueAt, lastError',
      ConditionExpression: '#claimStatus = :claimStatus AND claimToken = :claimToken',
      ExpressionAttributeNames: { '#status': 'status', '#claimStatus': 'status' },
      ExpressionAttributeValues: {
        ':sent': 'sent',
        ':sentAt': now.toISOString(),
        ':expiresAt': Math.floor(expiresAt.getTime() / 1000),
        ':claimStatus': 'sending',
        ':claimToken': 'token-1',
      },
    });
  });

  it('marks failed under the claim, leaving the due index and keeping the error', async () => {
    // Prepare
    const store = aStore();
    const claim = aClaim();
    dbMock.on(UpdateCommand).resolves({ Attributes: itemOf(claim.notification, { status: 'failed' }) });

    // Act
    await store.markFailed(claim, 'Every channel failed', now, new Date('2030-04-01T12:00:00Z'));

    // Assess
    const input = dbMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).toMatch(/REMOVE .*dueShard, dueAt/);
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ':failed': 'failed',
      ':error': 'Every channel failed',
      ':expiresAt': Date.parse('2030-04-01T12:00:00Z') / 1000,
      ':claimToken': 'token-1',
    });
  });

  it('releases under the claim to pending, keeping the error and the due index', async () => {
    // Prepare
    const store = aStore();
    const claim = aClaim();
    dbMock.on(UpdateCommand).resolves({ Attributes: itemOf(claim.notification, { status: 'pending' }) });

    // Act
    await store.release(claim, 'email: throttled');

    // Assess
    expect(dbMock).toHaveReceivedCommandWith(UpdateCommand, {
      UpdateExpression: 'SET #status = :pending, lastError = :error REMOVE leaseUntil, claimToken',
      ConditionExpression: '#claimStatus = :claimStatus AND claimToken = :claimToken',
    });
  });

  it('records one channel under the claim', async () => {
    // Prepare
    const store = aStore();
    const claim = aClaim();
    dbMock.on(UpdateCommand).resolves({ Attributes: itemOf(claim.notification) });
    const delivery = { status: 'sent' as const, at: now.toISOString() };

    // Act
    await store.recordDelivery(claim, 'email', delivery);

    // Assess
    expect(dbMock).toHaveReceivedCommandWith(UpdateCommand, {
      UpdateExpression: 'SET deliveries.#channel = :delivery',
      ExpressionAttributeNames: { '#channel': 'email', '#claimStatus': 'status' },
      ExpressionAttributeValues: { ':delivery': delivery, ':claimStatus': 'sending', ':claimToken': 'token-1' },
    });
  });

  it.each([
    ['recording a channel', (store: DynamoNotificationStore, claim: Claim) => store.recordDelivery(claim, 'inbox', { status: 'sent', at: now.toISOString() })],
    ['marking sent', (store: DynamoNotificationStore, claim: Claim) => store.markSent(claim, now, now)],
    ['marking failed', (store: DynamoNotificationStore, claim: Claim) => store.markFailed(claim, 'x', now, now)],
    ['releasing', (store: DynamoNotificationStore, claim: Claim) => store.release(claim, 'x')],
  ])('throws ClaimLostError when %s under a claim that was lost', async (_, write) => {
    // Prepare
    const store = aStore();
    dbMock.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const result = write(store, aClaim());

    // Assess
    await expect(result).rejects.toBeInstanceOf(ClaimLostError);
  });

  it('cancels only a pending notification, moving it from the due index to the cancelled one', async () => {
    // Prepare
    const store = aStore();
    const n = aNotification();
    dbMock.on(UpdateCommand).resolves({
      Attributes: itemOf(n, { status: 'cancelled', cancelledAt: now.toISOString(), cancelledShard: cancelledShard(n.id) }),
    });

    // Act
    const cancelled = await store.cancel('acme', n.id, now);

    // Assess
    expect(dbMock).toHaveReceivedCommandWith(UpdateCommand, {
      UpdateExpression: 'SET #status = :cancelled, cancelledAt = :at, cancelledShard = :shard REMOVE dueShard, dueAt',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeValues: expect.objectContaining({ ':shard': cancelledShard(n.id) }),
    });
    expect(cancelled).toEqual({ cancelled: { ...n, status: 'cancelled', cancelledAt: now.toISOString() } });
  });

  it('cancels nothing when there is no such notification, and says so', async () => {
    // Prepare: a refused write that returns no item (none exists)
    const store = aStore();
    dbMock.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const cancelled = await store.cancel('acme', aNotification().id, now);

    // Assess
    expect(cancelled).toEqual({});
  });

  it('cancels nothing when the notification is not pending, and learns its status from the refused write', async () => {
    // Prepare: DynamoDB returns the item as it is in the exception, in its wire format
    const store = aStore();
    const refused = conditionFailed();
    refused.Item = { status: { S: 'sending' } };
    dbMock.on(UpdateCommand).rejects(refused);

    // Act
    const cancelled = await store.cancel('acme', aNotification().id, now);

    // Assess
    expect(cancelled).toEqual({ status: 'sending' });
    expect(dbMock).toHaveReceivedCommandWith(UpdateCommand, { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' });
    expect(dbMock.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('reads a notification consistently, without the table bookkeeping', async () => {
    // Prepare
    const store = aStore();
    const n = aNotification();
    dbMock.on(GetCommand).resolves({ Item: itemOf(n, { claimToken: 'secret', expiresAt: 1 }) });

    // Act
    const read = await store.get('acme', n.id);

    // Assess
    expect(dbMock).toHaveReceivedCommandWith(GetCommand, { TableName: tableName, Key: { pk: `acme#${n.id}` }, ConsistentRead: true });
    expect(read).toEqual(n);
  });

  it('writes new notifications with their keys and due-index attributes, 25 per batch', async () => {
    // Prepare
    const store = aStore();
    const list = Array.from({ length: 30 }, () => aNotification());
    dbMock.on(BatchWriteCommand).resolves({});

    // Act
    await store.createMany(list);

    // Assess
    const calls = dbMock.commandCalls(BatchWriteCommand);
    expect(calls.map((call) => call.args[0].input.RequestItems?.[tableName]?.length)).toEqual([25, 5]);
    const first = list[0];
    expect(calls[0]?.args[0].input.RequestItems?.[tableName]?.[0]).toEqual({
      PutRequest: {
        Item: {
          ...first,
          pk: `acme#${first?.id}`,
          recipientKey: 'acme#bob',
          tenantKey: expect.stringMatching(/^acme#\d+$/),
          creatorKey: expect.stringMatching(/^acme#sam-sender#\d+$/),
          dueShard: dueShard(first?.id ?? ''),
          dueAt: first?.scheduledAt,
        },
      },
    });
  });

  it('writes again what DynamoDB left unprocessed', async () => {
    // Prepare
    const store = aStore();
    const [a, b] = [aNotification(), aNotification()];
    dbMock
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { [tableName]: [{ PutRequest: { Item: { pk: `acme#${b.id}` } } }] } })
      .resolves({ UnprocessedItems: {} });

    // Act
    await store.createMany([a, b]);

    // Assess
    expect(dbMock).toHaveReceivedCommandTimes(BatchWriteCommand, 2);
    expect(dbMock).toHaveReceivedNthCommandWith(BatchWriteCommand, 2, {
      RequestItems: { [tableName]: [{ PutRequest: { Item: { pk: `acme#${b.id}` } } }] },
    });
  });

  it('deletes notifications by key', async () => {
    // Prepare
    const store = aStore();
    dbMock.on(BatchWriteCommand).resolves({});

    // Act
    await store.deleteMany('acme', ['ntf_a', 'ntf_b']);

    // Assess
    expect(dbMock).toHaveReceivedCommandWith(BatchWriteCommand, {
      RequestItems: { [tableName]: [{ DeleteRequest: { Key: { pk: 'acme#ntf_a' } } }, { DeleteRequest: { Key: { pk: 'acme#ntf_b' } } }] },
    });
  });

  it('spreads ids over the due-index shards', () => {
    // Prepare
    const ids = Array.from({ length: 200 }, () => aNotification().id);

    // Act
    const shards = new Set(ids.map(dueShard));

    // Assess
    expect(shards.size).toBe(DUE_INDEX_SHARDS);
    for (const shard of shards) expect(shard).toMatch(/^due#\d+$/);
    expect(dueShard(ids[0] ?? '')).toBe(dueShard(ids[0] ?? ''));
  });
});
