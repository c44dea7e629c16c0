/**
 * What one direct notification costs in AWS calls, counted by the local stack (`/_local/calls`),
 * from the create request to `sent`: a notification to a connected recipient on inbox,
 * WebSocket and e-mail. Metrics are counted off that path, from the notifications table's stream
 * (functions/metrics), so the path makes no metrics call; the test watches the outcome through
 * the stack's plain DynamoDB endpoint, which is not counted, so its own reads cost nothing.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS_SHARDS } from '../../lib/app-description.ts';
import { connectSocket, eventually, startHarness } from './support/harness.ts';
import type { Harness, SocketClient } from './support/harness.ts';

let h: Harness;
let db: DynamoDBDocumentClient;
let admin: string;
let socket: SocketClient;
const tenant = 'calls-co';

beforeAll(async () => {
  h = await startHarness();
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: h.stack.endpoints.dynamodb, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
  );
  admin = await h.token('calls-ops', { role: 'admin', tenant });
  const put = await h.api('PUT', '/v1/recipients/zed', { token: admin, body: { email: 'zed@example.com' } });
  expect(put.status).toBe(201);
  socket = await connectSocket(h.stack.wsUrl, await h.token('zed', { tenant }));
});

afterAll(async () => {
  await socket?.close();
  db?.destroy();
  await h?.close();
});

/** The status of a notification, read through the uncounted endpoint. */
async function statusOf(id: string): Promise<unknown> {
  const { Item } = await db.send(new GetCommand({ TableName: h.stack.tableNames.notifications, Key: { pk: `${tenant}#${id}` }, ConsistentRead: true }));
  return Item?.status;
}

/** The tenant's `notifications.sent` counters, summed over its shards, read through the uncounted endpoint. */
async function sentCounted(): Promise<number> {
  let total = 0;
  for (let shard = 0; shard < METRICS_SHARDS; shard++) {
    const { Items = [] } = await db.send(new QueryCommand({ TableName: h.stack.tableNames.metrics, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${tenant}#${shard}` } }));
    for (const item of Items) total += typeof item['notifications.sent'] === 'number' ? item['notifications.sent'] : 0;
  }
  return total;
}

/** Creates a notification to zed due now on every channel; resolves once it is sent and the stream counted it. */
async function deliverOne(sentBefore: number): Promise<number> {
  const created = await h.api('POST', '/v1/notifications', {
    token: admin,
    body: { recipients: ['zed'], title: 'Build green', message: 'main is green again', channels: ['inbox', 'websocket', 'email'] },
  });
  expect(created.status).toBe(201);
  const [id] = created.body.notificationIds as string[];
  await eventually(() => statusOf(id ?? ''), (status) => status === 'sent');
  // The metrics trigger gathers records for 5 s (its batching window) before it counts them.
  await eventually(sentCounted, (sent) => sent === sentBefore + 1, 30_000);
  return created.status;
}

describe('the AWS calls of one direct notification', () => {
  // Two deliveries, each counted 5 s or more after its create (10.5 s in all on an idle machine):
  // the default 30 s was within 3x of that, and no longer than the wait for one count alone.
  it('are 9 from the create request to sent, none of them for metrics, which the stream counts after', async () => {
    // Prepare: a first delivery warms the functions up (the deliver function reads SES's send quota once per cold start).
    await deliverOne(0);
    await h.api('DELETE', '/_local/calls');

    // Act
    const status = await deliverOne(1);
    const { calls, byFunction } = (await h.api('GET', '/_local/calls')).body as {
      calls: Record<string, Record<string, number>>;
      byFunction: Record<string, Record<string, Record<string, number>>>;
    };

    // Assess
    expect(status).toBe(201);
    // The metrics function's ADDs are off the path; only it is left out.
    const metricsAdds = byFunction.metrics?.dynamodb?.UpdateItem ?? 0;
    expect(Object.keys(byFunction.metrics ?? {}).filter((service) => service !== 'dynamodb')).toEqual([]);
    const { UpdateItem: updates = 0, ...others } = calls.dynamodb ?? {};
    const dynamodb = updates > metricsAdds ? { ...others, UpdateItem: updates - metricsAdds } : others;
    const path = { ...calls, dynamodb };
    expect(path, JSON.stringify(byFunction)).toEqual({
      // create: the recipient read, the notification written, the message due now; delivery: one
      // read of the unit, the e-mail's send-budget reservation (a conditional ADD on the second's
      // slot, kept out of the claim's transaction so that concurrent claims do not cancel each
      // other on it: docs/delivery-engine.md), its claim, its commit; and the two sends.
      dynamodb: { BatchGetItem: 2, BatchWriteItem: 1, TransactWriteItems: 2, UpdateItem: 1 },
      sqs: { SendMessage: 1 },
      ses: { SendEmail: 1 },
      apigatewaymanagementapi: { PostToConnection: 1 },
    });
    expect(Object.values(path).flatMap((ops) => Object.values(ops)).reduce((a, b) => a + b, 0)).toBe(9);
    // The metrics function's ADDs: one per stream batch, whatever the deliveries in each. The
    // trigger's 5 s window gathers the create, the claim and the commit into one batch (two or
    // three when a loaded machine takes longer than the window from the create to the commit;
    // the window itself is tested in test/unit/local/stream-event-source-mapping.test.ts).
    expect(metricsAdds).toBeGreaterThanOrEqual(1);
    expect(metricsAdds).toBeLessThanOrEqual(3);
  }, 120_000);
});
