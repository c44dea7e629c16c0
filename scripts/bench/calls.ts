/**
 * `npm run bench -- calls [--notifications 5] [--recipients 100]`: the AWS calls one delivery
 * costs, by service and operation, as the local stack counts them (`GET /_local/calls`: what the
 * functions call, not the stack's own polling), from the create request to `sent` (and, for a
 * direct notification, until the metrics function has counted it: its ADDs come after its
 * trigger's 5 s batching window, and each notification is waited for alone). The cases of
 * issue 9's call budget:
 * 1. a direct notification with inbox, WebSocket and e-mail to a connected recipient (budget 8);
 * 2. a broadcast recipient with inbox and WebSocket, not connected (budget 3);
 * 3. a broadcast recipient with inbox, WebSocket and e-mail, connected (budget 3).
 * The broadcasts run at each audience size of `--recipients`: a broadcast has a fixed cost (its
 * steps walk every write shard of its rows) that a large audience spreads thin. Each case is run
 * once beforehand to warm the functions (a cold start reads the SES quota once). Each case also
 * prints the DynamoDB writes it made (items and index entries, the entries DynamoDB charges write units for), counted by
 * the local endpoint whoever made them (the metrics function's counts included).
 * The waiting reads DynamoDB through the stack's plain endpoint, which is not counted.
 * Figures only: nothing here passes or fails on a count.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { METRICS_SHARDS } from '../../lib/app-description.ts';
import type { ApiCallCounts, ApiCallCountsByFunction } from '../../local/api-call-counter.ts';
import type { StoreWrites } from '../../local/dynamodb/write-counter.ts';
import { LOCAL_REGION } from '../../local/stack.ts';
import { numberListOption, numberOption } from './format.ts';
import { listen, number, registerRecipients, startBenchStack } from './support.ts';
import type { BenchStack, FrameListener } from './support.ts';

/** How to call the calls benchmark. */
export const callsUsage = 'npm run bench -- calls [--notifications 5] [--recipients 100,1000]';

const tenantId = 'default';

function parseOptions(args: readonly string[]): { notifications: number; sizes: number[] } {
  const { values } = parseArgs({ args: [...args], options: { notifications: { type: 'string', default: '5' }, recipients: { type: 'string', default: '100,1000' } } });
  const notifications = numberOption('notifications', values.notifications, callsUsage, { integer: true });
  const sizes = numberListOption('recipients', values.recipients, callsUsage, { integer: true });
  return { notifications, sizes };
}

/** Reads items through the stack's plain endpoint: the functions' call count does not see these. */
function plainReader(bench: BenchStack): { status(table: string, id: string): Promise<string | undefined>; sentCounted(): Promise<number>; close(): void } {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: bench.stack.endpoints.dynamodb, region: LOCAL_REGION, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } }),
  );
  return {
    async status(table, id) {
      const { Item } = await client.send(new GetCommand({ TableName: bench.stack.tableNames[table], Key: { pk: `${tenantId}#${id}` }, ConsistentRead: true }));
      return Item?.status as string | undefined;
    },
    /** The tenant's `notifications.sent` counters, summed over the metrics shards. */
    async sentCounted() {
      let total = 0;
      for (let shard = 0; shard < METRICS_SHARDS; shard++) {
        const { Items = [] } = await client.send(
          new QueryCommand({ TableName: bench.stack.tableNames.metrics, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${tenantId}#${shard}` } }),
        );
        for (const item of Items) total += typeof item['notifications.sent'] === 'number' ? item['notifications.sent'] : 0;
      }
      return total;
    },
    close: () => client.destroy(),
  };
}

async function waitForStatus(read: () => Promise<string | undefined>, wanted: readonly string[], what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const status = await read();
    if (status !== undefined && wanted.includes(status)) return;
    if (Date.now() > deadline) throw new Error(`${what} is still ${status ?? 'missing'} after 2 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function waitForCount(read: () => Promise<number>, wanted: number, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const count = await read();
    if (count >= wanted) return;
    if (Date.now() > deadline) throw new Error(`${what} is ${count}, not ${wanted}, after 2 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The DynamoDB writes made since `before` (items to tables, entries to indexes), by every caller. */
function writesSince(bench: BenchStack, before: StoreWrites): StoreWrites {
  const now = bench.stack.dynamodbWrites();
  return { tableItems: now.tableItems - before.tableItems, indexEntries: now.indexEntries - before.indexEntries };
}

/** Every call in `calls`, whatever the service and operation. */
function callCount(calls: ApiCallCounts | undefined): number {
  return Object.values(calls ?? {}).reduce((sum, ops) => sum + Object.values(ops).reduce((a, b) => a + b, 0), 0);
}

/**
 * Prints the calls per unit by operation, their total against `budget`, and the DynamoDB writes.
 * The metrics function's calls are off the delivery path (it counts the notifications table's
 * stream, one ADD per batch of records, shared by every delivery in the batch): the budget is
 * for the path, so they are shown apart when there are any.
 */
function report(title: string, calls: ApiCallCounts, writes: StoreWrites, per: number, unit: string, budget: number, byFunction: ApiCallCountsByFunction): void {
  const rows = Object.entries(calls)
    .flatMap(([service, ops]) => Object.entries(ops).map(([operation, count]) => ({ name: `${service} ${operation}`, count })))
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  const total = rows.reduce((sum, row) => sum + row.count, 0);
  const metrics = callCount(byFunction.metrics);
  console.log(title);
  for (const row of rows) console.log(`    ${row.name.padEnd(40)} ${number(row.count / per, 2).padStart(7)}  (${number(row.count)})`);
  if (metrics === 0) {
    console.log(`    ${'total'.padEnd(40)} ${number(total / per, 2).padStart(7)}  per ${unit} (budget ${budget})`);
  } else {
    console.log(`    ${'total'.padEnd(40)} ${number(total / per, 2).padStart(7)}  per ${unit}`);
    console.log(`    ${'on the path (the metrics left out)'.padEnd(40)} ${number((total - metrics) / per, 2).padStart(7)}  per ${unit} (budget ${budget})`);
    console.log(`    ${"the metrics function's ADDs".padEnd(40)} ${number(metrics / per, 2).padStart(7)}  per ${unit} (off the path: one per batch of stream records)`);
  }
  console.log(
    `    ${'DynamoDB writes (items + index entries)'.padEnd(40)} ${number((writes.tableItems + writes.indexEntries) / per, 2).padStart(7)}  per ${unit} (${number(writes.tableItems / per, 2)} + ${number(writes.indexEntries / per, 2)})`,
  );
}

/** Prints each function's share of the calls per unit, with its operations: `deliver 6.00: dynamodb TransactWriteItems 2.00, ...`. */
function reportByFunction(byFunction: ApiCallCountsByFunction, per: number): void {
  console.log('    by function:');
  for (const [caller, calls] of Object.entries(byFunction).sort(([a], [b]) => a.localeCompare(b))) {
    const rows = Object.entries(calls).flatMap(([service, ops]) => Object.entries(ops).map(([operation, count]) => ({ name: `${service} ${operation}`, count })));
    const total = rows.reduce((sum, row) => sum + row.count, 0);
    const detail = rows
      .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name))
      .map((row) => `${row.name} ${number(row.count / per, 2)}`)
      .join(', ');
    console.log(`      ${caller.padEnd(18)} ${number(total / per, 2).padStart(6)}: ${detail}`);
  }
}

/** Runs the calls benchmark; resolves with the exit code. */
export async function runCallsBench(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  const bench = await startBenchStack('calls');
  const reader = plainReader(bench);
  const listeners: FrameListener[] = [];
  try {
    const admin = await bench.token('bench-admin', 'admin');
    const register = (recipients: readonly { id: string; email?: string; groups?: string[] }[]): Promise<void> => registerRecipients(bench, admin, recipients);
    const connect = async (ids: readonly string[]): Promise<void> => {
      for (const id of ids) listeners.push(await listen(bench.stack.wsUrl, await bench.token(id)));
    };

    // 1. Direct notifications, one at a time, each to `sent` before the next.
    await register([{ id: 'calls-direct', email: 'calls-direct@example.com' }]);
    await connect(['calls-direct']);
    const notify = async (): Promise<void> => {
      const created = await bench.api<{ notificationIds: string[] }>('POST', '/v1/notifications', admin, {
        recipients: ['calls-direct'],
        title: 'Calls benchmark',
        message: 'Inbox, WebSocket and e-mail.',
        channels: ['inbox', 'websocket', 'email'],
      });
      if (created.status !== 201) throw new Error(`POST /v1/notifications answered ${created.status}`);
      const [id] = created.body.notificationIds;
      await waitForStatus(() => reader.status('notifications', id ?? ''), ['sent', 'failed'], `Notification ${id}`);
      // A failed delivery is not the case measured, and its `sent` count would never come.
      if ((await reader.status('notifications', id ?? '')) !== 'sent') throw new Error(`Notification ${id} failed: see the functions' log`);
      // And counted: the metrics function's ADDs come after its batching window, and are part of
      // what a notification costs. Waited for each, this is the cost of a notification alone.
      await waitForCount(() => reader.sentCounted(), ++sent, 'The metrics\' sent count');
    };
    let sent = 0;
    await notify();
    bench.stack.apiCalls.reset();
    const directBefore = bench.stack.dynamodbWrites();
    for (let i = 0; i < options.notifications; i++) await notify();
    const direct = bench.stack.apiCalls.snapshot();
    const directByFunction = bench.stack.apiCalls.byFunction();
    const directWrites = writesSince(bench, directBefore);

    // 2 and 3. Broadcasts to a group, create request to `completed`.
    const broadcast = async (group: string, channels: readonly string[]): Promise<void> => {
      const created = await bench.api<{ broadcastId: string }>('POST', '/v1/broadcasts', admin, {
        audience: { groups: [group] },
        title: 'Calls benchmark',
        message: 'A broadcast.',
        channels,
      });
      if (created.status !== 201) throw new Error(`POST /v1/broadcasts answered ${created.status}: ${JSON.stringify(created.body)}`);
      const id = created.body.broadcastId;
      await waitForStatus(() => reader.status('broadcasts', id), ['completed', 'failed', 'cancelled'], `Broadcast ${id}`);
    };
    const members = (group: string, n: number, email: boolean): { id: string; email?: string; groups: string[] }[] =>
      Array.from({ length: n }, (_, i) => {
        const id = `${group}-${String(i).padStart(5, '0')}`;
        return { id, ...(email ? { email: `${id}@example.com` } : {}), groups: [group] };
      });
    await register(members('warm', 10, true));
    await connect(members('warm', 10, true).map((m) => m.id));
    await broadcast('warm', ['inbox', 'websocket', 'email']);
    const broadcasts: {
      size: number;
      quiet: ApiCallCounts;
      quietByFunction: ApiCallCountsByFunction;
      quietWrites: StoreWrites;
      live: ApiCallCounts;
      liveByFunction: ApiCallCountsByFunction;
      liveWrites: StoreWrites;
    }[] = [];
    for (const size of options.sizes) {
      await register([...members(`quiet${size}`, size, false), ...members(`live${size}`, size, true)]);
      await connect(members(`live${size}`, size, true).map((m) => m.id));
      bench.stack.apiCalls.reset();
      const quietBefore = bench.stack.dynamodbWrites();
      await broadcast(`quiet${size}`, ['inbox', 'websocket']);
      const quiet = bench.stack.apiCalls.snapshot();
      const quietByFunction = bench.stack.apiCalls.byFunction();
      const quietWrites = writesSince(bench, quietBefore);
      bench.stack.apiCalls.reset();
      const liveBefore = bench.stack.dynamodbWrites();
      await broadcast(`live${size}`, ['inbox', 'websocket', 'email']);
      broadcasts.push({
        size,
        quiet,
        quietByFunction,
        quietWrites,
        live: bench.stack.apiCalls.snapshot(),
        liveByFunction: bench.stack.apiCalls.byFunction(),
        liveWrites: writesSince(bench, liveBefore),
      });
    }

    console.log('');
    console.log('AWS calls the functions made, by operation (as GET /_local/calls counts them), from the create request to sent (and counted)');
    report(`1. Direct notification, inbox + WebSocket + e-mail, recipient connected (${options.notifications} notifications)`, direct, directWrites, options.notifications, 'notification', 8, directByFunction);
    reportByFunction(directByFunction, options.notifications);
    for (const { size, quiet, quietByFunction, quietWrites, live, liveByFunction, liveWrites } of broadcasts) {
      report(`2. Broadcast, inbox + WebSocket, recipients not connected (${number(size)} recipients)`, quiet, quietWrites, size, 'recipient', 3, quietByFunction);
      reportByFunction(quietByFunction, size);
      report(`3. Broadcast, inbox + WebSocket + e-mail, recipients connected (${number(size)} recipients)`, live, liveWrites, size, 'recipient', 3, liveByFunction);
      reportByFunction(liveByFunction, size);
    }
    return 0;
  } finally {
    await Promise.all(listeners.map((l) => l.close()));
    reader.close();
    await bench.close();
  }
}
