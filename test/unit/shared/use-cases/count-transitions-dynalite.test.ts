/**
 * The metrics as the stream counts them, end to end on the real DynamoDB protocol: the stores'
 * writes (the notification store's create, cancel and retry; the engine's claim and commit) go
 * to the notifications table, its stream (the local endpoint's) is read through the Streams API,
 * turned into Lambda's event records, and counted by `countTransitions`. Each case is one the
 * synchronous counters (MeteredNotificationStore, the engine's afterCommit) counted, with the
 * same counts.
 */
import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, DescribeStreamCommand } from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoBroadcastStore } from '../../../../shared/adapters/dynamo-broadcast-store.ts';
import { DynamoDeliveryStore } from '../../../../shared/adapters/dynamo-delivery-store.ts';
import { DynamoLiveStateStore } from '../../../../shared/adapters/dynamo-live-state-store.ts';
import { DynamoNotificationStore } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { DynamoRecipientStore } from '../../../../shared/adapters/dynamo-recipient-store.ts';
import { SendBudgets } from '../../../../shared/adapters/dynamo-send-budgets.ts';
import { changeRecordOf, dynamoDbStreamRecordSchema } from '../../../../shared/adapters/notification-stream.ts';
import { createChannels } from '../../../../shared/delivery/channels/index.ts';
import { deliverUnits } from '../../../../shared/delivery/engine.ts';
import type { MetricCounts } from '../../../../shared/domain/metrics.ts';
import type { Notification } from '../../../../shared/domain/notification.ts';
import { defaultRetryPolicy } from '../../../../shared/domain/retry-policy.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { countTransitions } from '../../../../shared/use-cases/count-transitions.ts';
import { toEventRecord } from '../../../../local/stream-events.ts';
import { FakeClock, FakeMailer, FakeSocketPoster, InMemoryMetricsStore } from '../../fakes/index.ts';
import { aNotification, aRecipient } from '../../fakes/fixtures.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;
let streams: DynamoDBStreamsClient;
let streamArn: string;
let shardId: string;
let notifications: DynamoNotificationStore;
const noon = new Date('2030-01-01T12:00:00.000Z');
let tenants = 0;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  dynamo = await startLocalDynamo({ withTables: true });
  streams = new DynamoDBStreamsClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const { Table } = await dynamo.client.send(new DescribeTableCommand({ TableName: 'notifications' }));
  streamArn = Table?.LatestStreamArn ?? '';
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  shardId = StreamDescription?.Shards?.[0]?.ShardId ?? '';
  notifications = new DynamoNotificationStore(dynamo.documentClient, 'notifications');
});

afterAll(async () => {
  streams?.destroy();
  await dynamo?.stop();
});

/** Where the stream is now: the writes after this are the test's. */
async function streamPosition(): Promise<string> {
  const { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'LATEST' }));
  return ShardIterator ?? '';
}

/** Counts what the stream holds from `position` on, as the metrics function would, into a fresh store. */
async function countFrom(position: string): Promise<InMemoryMetricsStore> {
  const { Records = [] } = await streams.send(new GetRecordsCommand({ ShardIterator: position }));
  const metrics = new InMemoryMetricsStore();
  const records = Records.map((record) => changeRecordOf(dynamoDbStreamRecordSchema.parse(toEventRecord(record, streamArn))));
  const result = await countTransitions({ metrics }, records);
  expect(result).toEqual({});
  return metrics;
}

/** The counts of `tenantId`, whatever the hours of the records (the table's clock, so now). */
async function countsOf(metrics: InMemoryMetricsStore, tenantId: string): Promise<MetricCounts> {
  const sums = await metrics.sum(tenantId, new Date(0), new Date(Date.now() + 3_600_000));
  return Object.fromEntries(Object.entries(sums).filter(([, value]) => value !== 0));
}

function aTenant(): string {
  return `metrics-${++tenants}`;
}

describe('the metrics counted from the notifications stream', () => {
  it('counts creations per tenant', async () => {
    // Prepare
    const [acme, globex] = [aTenant(), aTenant()];
    const position = await streamPosition();

    // Act
    await notifications.createMany([aNotification({ tenantId: acme }), aNotification({ tenantId: acme }), aNotification({ tenantId: globex })]);
    const metrics = await countFrom(position);

    // Assess
    expect(await countsOf(metrics, acme)).toEqual({ 'notifications.pending': 2 });
    expect(await countsOf(metrics, globex)).toEqual({ 'notifications.pending': 1 });
  });

  it('counts a delivery\'s claim, its channel outcomes and its end, but not the intents to send', async () => {
    // Prepare
    const tenantId = aTenant();
    const clock = new FakeClock(noon.toISOString());
    const recipients = new DynamoRecipientStore(dynamo.documentClient, 'recipients', () => 'memberships');
    await recipients.put(aRecipient({ tenantId, id: 'bob', email: 'bob@example.com' }));
    const live = new DynamoLiveStateStore(dynamo.documentClient, 'inbox');
    const mailer = new FakeMailer();
    const sockets = new FakeSocketPoster();
    const n = aNotification({ tenantId, scheduledAt: noon.toISOString() });
    await notifications.createMany([n]);
    const store = new DynamoDeliveryStore(
      dynamo.documentClient,
      () => ({ notifications: 'notifications', broadcasts: 'broadcasts', broadcastRecipients: 'broadcast-recipients', recipients: 'recipients', inbox: 'inbox', rateLimits: 'rate-limits' }),
      { sentRetentionDays: 90, rowRetentionDays: 90, budgets: new SendBudgets(() => ({})) },
    );
    const broadcasts = new DynamoBroadcastStore(dynamo.documentClient, 'broadcasts');
    const position = await streamPosition();

    // Act: bob is not connected, so the WebSocket channel is skipped.
    const outcomes = await deliverUnits(
      {
        store,
        channels: createChannels({ mailer, sockets, live }),
        live,
        sockets,
        broadcasts,
        clock,
        settings: { leaseSeconds: 60, retry: { ...defaultRetryPolicy, jitter: 0 }, holdMs: 2_000 },
        sleep: async () => undefined,
      },
      [{ kind: 'notification', tenantId, notificationId: n.id, recipientId: 'bob' }],
      { deadline: new Date(noon.getTime() + 10_000) },
    );
    const metrics = await countFrom(position);

    // Assess
    expect([...outcomes.values()]).toEqual([{ kind: 'done', status: 'sent' }]);
    expect(await countsOf(metrics, tenantId)).toEqual({
      'notifications.sending': 1,
      'notifications.sent': 1,
      'deliveries.inbox.sent': 1,
      'deliveries.websocket.skipped': 1,
      'deliveries.email.sent': 1,
    });
  });

  it('counts nothing for a transition whose condition did not hold', async () => {
    // Prepare
    const tenantId = aTenant();
    const sent: Notification = aNotification({ tenantId, status: 'sent' });
    await notifications.createMany([sent]);
    const position = await streamPosition();

    // Act
    const results = [await notifications.cancel(tenantId, sent.id, noon), await notifications.claim(tenantId, sent.id, noon, 60), await notifications.requeueFailed(tenantId, sent.id, noon, noon)];
    const metrics = await countFrom(position);

    // Assess
    expect(results).toEqual([{ status: 'sent' }, undefined, undefined]);
    expect(await countsOf(metrics, tenantId)).toEqual({});
  });

  it('counts a cancel, a sent and a manual retry', async () => {
    // Prepare
    const tenantId = aTenant();
    const pending = aNotification({ tenantId });
    const failed = aNotification({ tenantId, status: 'failed' });
    const toSend = aNotification({ tenantId });
    await notifications.createMany([pending, failed, toSend]);
    const position = await streamPosition();

    // Act
    await notifications.cancel(tenantId, pending.id, noon);
    await notifications.requeueFailed(tenantId, failed.id, noon, noon);
    const claim = await notifications.claim(tenantId, toSend.id, noon, 60);
    if (!claim) throw new Error('not claimed');
    await notifications.markSent(claim, noon, noon);
    const metrics = await countFrom(position);

    // Assess
    expect(await countsOf(metrics, tenantId)).toEqual({
      'notifications.cancelled': 1,
      'notifications.pending': 1,
      'notifications.sending': 1,
      'notifications.sent': 1,
    });
  });

  it('counts a create rolled back after a scheduler outage as created and cancelled, which is what the table saw', async () => {
    // Prepare
    const tenantId = aTenant();
    const n = aNotification({ tenantId });
    const position = await streamPosition();

    // Act: the rollback of POST /v1/notifications: cancel, then delete.
    await notifications.createMany([n]);
    await notifications.cancel(tenantId, n.id, noon);
    await notifications.deleteMany(tenantId, [n.id]);
    const metrics = await countFrom(position);

    // Assess
    expect(await countsOf(metrics, tenantId)).toEqual({ 'notifications.pending': 1, 'notifications.cancelled': 1 });
  });
});
