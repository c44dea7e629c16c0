/**
 * The two sweep handlers as EventBridge rules invoke them, on the local DynamoDB and SQS (their
 * faultable endpoints, as the functions call them): a Scheduled Event in, the sweep's result out,
 * what it found on the queues and what it deleted gone from the table.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { BROADCAST_DUE_INDEX_SHARDS, CANCELLED_INDEX_SHARDS, DUE_INDEX_SHARDS } from '../../../lib/app-description.ts';
import type { QueueName } from '../../../lib/app-description.ts';
import { DynamoBroadcastStore } from '../../../shared/adapters/dynamo-broadcast-store.ts';
import { writeShardOf } from '../../../shared/adapters/dynamo-keys.ts';
import { cancelledShard, DynamoNotificationStore, notificationKey } from '../../../shared/adapters/dynamo-notification-store.ts';
import { zeroCounts } from '../../../shared/domain/broadcast.ts';
import type { Broadcast } from '../../../shared/domain/broadcast.ts';
import { newBroadcastId, newNotificationId } from '../../../shared/domain/ids.ts';
import { aLambdaContext } from '../fakes/lambda.ts';
import { aNotification } from '../fakes/fixtures.ts';
import { startLocalAws } from '../support/local-aws.ts';

// Config and clients are read once per process: set the environment before the handlers load.
const aws = await startLocalAws({ sqs: true, extra: { HERALD_STUCK_AFTER_SECONDS: '300', HERALD_CANCELLED_RETENTION_DAYS: '30' } });
Object.assign(process.env, aws.env);
const stuckRetry = (await import('../../../functions/stuck-retry/handler.ts')).handler;
const cleanup = (await import('../../../functions/cleanup/handler.ts')).handler;

const notifications = new DynamoNotificationStore(aws.dynamo.documentClient, 'notifications');
const broadcasts = new DynamoBroadcastStore(aws.dynamo.documentClient, 'broadcasts');
const hourAgo = (): string => new Date(Date.now() - 3_600_000).toISOString();

afterAll(async () => {
  await aws.stop();
});

beforeEach(async () => {
  await aws.clearTables('notifications', 'broadcasts');
  await aws.purgeQueues();
  aws.calls.reset();
});

function aScheduledEvent(rule: string): ScheduledEvent<Record<string, never>> {
  return {
    version: '0',
    id: 'c5f2b2a0-0000-4000-8000-000000000001',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '111122223333',
    time: '2030-01-01T12:00:00Z',
    region: 'eu-west-1',
    resources: [`arn:aws:events:eu-west-1:111122223333:rule/herald-test-${rule}`],
    detail: {},
  };
}

/** One id of each write shard of an index of `shards` shards, made by `newId`. */
function oneIdPerShard(shards: number, newId: () => string): string[] {
  const ids = new Map<number, string>();
  while (ids.size < shards) {
    const id = newId();
    ids.set(writeShardOf(id, shards), id);
  }
  return [...ids.values()];
}

/** Every message body on `queue`. */
async function bodiesOn(queue: QueueName): Promise<string[]> {
  const bodies: string[] = [];
  for (let batch = await aws.receive(queue); batch.length > 0; batch = await aws.receive(queue)) bodies.push(...batch.map((m) => m.Body ?? ''));
  return bodies.sort();
}

function aBroadcast(id: string, scheduledAt: string): Broadcast {
  return {
    tenantId: 'acme',
    id,
    createdBy: 'sam',
    title: 'Maintenance',
    type: 'system',
    priority: 'normal',
    channels: ['inbox'],
    audience: { kind: 'recipients', count: 1 },
    status: 'scheduled',
    scheduledAt,
    createdAt: scheduledAt,
    counts: zeroCounts,
    run: 0,
  };
}

describe('the stuck-retry handler', () => {
  it('reads every shard of the due index and puts what it finds back on the delivery queue', async () => {
    // Prepare: a notification an hour overdue in each of the 16 shards, and one due a minute ago (not stuck yet)
    const stuck = oneIdPerShard(DUE_INDEX_SHARDS, () => newNotificationId(new Date()));
    await notifications.createMany(stuck.map((id) => aNotification({ tenantId: 'acme', id, scheduledAt: hourAgo() })));
    await notifications.createMany([aNotification({ tenantId: 'acme', id: newNotificationId(new Date()), scheduledAt: new Date(Date.now() - 60_000).toISOString() })]);

    // Act
    const result = await stuckRetry(aScheduledEvent('stuck-retry'), aLambdaContext('herald-test-stuck-retry'));

    // Assess
    expect(result).toEqual({ retried: DUE_INDEX_SHARDS, broadcastStarts: 0, timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(await bodiesOn('delivery')).toEqual(stuck.map((id) => `{"tenantId":"acme","notificationId":"${id}"}`).sort());
    expect(await bodiesOn('fanout')).toEqual([]);
  });

  it('reads every shard of the broadcasts\' due index and sends each overdue broadcast a start on the fan-out queue', async () => {
    // Prepare: an overdue scheduled broadcast in each of the 4 shards, and one scheduled for tomorrow
    const overdue = oneIdPerShard(BROADCAST_DUE_INDEX_SHARDS, () => newBroadcastId(new Date()));
    for (const id of overdue) await broadcasts.create(aBroadcast(id, hourAgo()), { message: 'Tonight' }, ['bob']);
    await broadcasts.create(aBroadcast(newBroadcastId(new Date()), new Date(Date.now() + 86_400_000).toISOString()), { message: 'Tomorrow' }, ['bob']);

    // Act
    const result = await stuckRetry(aScheduledEvent('stuck-retry'), aLambdaContext('herald-test-stuck-retry'));

    // Assess: a Query per shard of each index when nothing more is due, the starts sent in batches
    expect(result).toEqual({ retried: 0, broadcastStarts: BROADCAST_DUE_INDEX_SHARDS, timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(await bodiesOn('fanout')).toEqual(overdue.map((id) => `{"kind":"start","tenantId":"acme","broadcastId":"${id}"}`).sort());
    expect(await bodiesOn('delivery')).toEqual([]);
    expect(aws.calls.calls('dynamodb')).toEqual(Array<string>(BROADCAST_DUE_INDEX_SHARDS + DUE_INDEX_SHARDS).fill('Query'));
    expect(new Set(aws.calls.calls('sqs'))).toEqual(new Set(['SendMessageBatch']));
  });

  it('refuses an event that is not a scheduled event', async () => {
    // Act + Assess
    await expect(stuckRetry({ hello: 'world' }, aLambdaContext('herald-test-stuck-retry'))).rejects.toThrow();
    expect(aws.calls.calls()).toEqual([]);
  });
});

describe('the cleanup handler', () => {
  it('deletes the old cancelled notifications of the cancelled index and answers in the agreed keys', async () => {
    // Prepare: one cancelled long ago in each of the 16 shards; one cancelled yesterday and one
    // pending, both kept; and one the index still lists as cancelled long ago that is pending now
    // (on AWS a global secondary index is read eventually consistent): kept, by the delete's condition
    const old = oneIdPerShard(CANCELLED_INDEX_SHARDS, () => newNotificationId(new Date()));
    const recent = newNotificationId(new Date());
    const pending = newNotificationId(new Date());
    const listedStale = newNotificationId(new Date());
    await notifications.createMany([...old, recent, pending].map((id) => aNotification({ tenantId: 'acme', id, scheduledAt: hourAgo() })));
    for (const id of old) await notifications.cancel('acme', id, new Date('2020-01-01T00:00:00.000Z'));
    await notifications.cancel('acme', recent, new Date(Date.now() - 86_400_000));
    await aws.dynamo.documentClient.send(
      new PutCommand({
        TableName: 'notifications',
        Item: { ...notificationKey('acme', listedStale), ...aNotification({ tenantId: 'acme', id: listedStale }), cancelledShard: cancelledShard(listedStale), cancelledAt: '2020-01-01T00:00:00.000Z' },
      }),
    );

    // Act
    const result = await cleanup(aScheduledEvent('cleanup'), aLambdaContext('herald-test-cleanup'));

    // Assess
    expect(Object.keys(result as object).sort()).toEqual(['before_cutoff', 'cutoff_date', 'deleted', 'timestamp']);
    expect(result).toMatchObject({ deleted: CANCELLED_INDEX_SHARDS, before_cutoff: CANCELLED_INDEX_SHARDS + 1 });
    const { cutoff_date: cutoff, timestamp } = result as { cutoff_date: string; timestamp: string };
    expect(Date.parse(timestamp) - Date.parse(cutoff)).toBe(30 * 86_400_000);
    for (const id of old) expect(await notifications.get('acme', id)).toBeUndefined();
    expect(await notifications.get('acme', recent)).toMatchObject({ status: 'cancelled' });
    expect(await notifications.get('acme', pending)).toMatchObject({ status: 'pending' });
    expect(await notifications.get('acme', listedStale)).toMatchObject({ status: 'pending' });
  });
});
