/**
 * `npm run redrive` against the local stack: dead-lettered messages go back to the delivery
 * queue and obey every rule there — a pending notification is delivered, a cancelled one stays
 * undelivered. The local SQS (fauxqs) has no message move tasks, so this is the copy path.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleGroupName } from '../../lib/app-description.ts';
import { LOCAL_REGION } from '../../local/stack.ts';
import { localSqsEndpoint, redrive } from '../../scripts/redrive.ts';
import { eventually, inMs, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

const run = promisify(execFile);
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

let h: Harness;
let admin: string;
let sqs: SQSClient;
let scheduler: SchedulerClient;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.token('ops', { role: 'admin' });
  expect((await h.api('PUT', '/v1/recipients/dave', { token: admin, body: {} })).status).toBe(201);
  sqs = new SQSClient({ endpoint: await localSqsEndpoint(h.stack.httpUrl), region: LOCAL_REGION, credentials, useQueueUrlAsEndpoint: false });
  scheduler = new SchedulerClient({ endpoint: h.stack.endpoints.scheduler, region: LOCAL_REGION, credentials });
});

afterAll(async () => {
  sqs?.destroy();
  scheduler?.destroy();
  await h?.close();
});

async function create(title: string, ms: number): Promise<string> {
  const created = await h.api('POST', '/v1/notifications', {
    token: admin,
    body: { recipients: ['dave'], title, message: 'Back from the dead letters', scheduledAt: inMs(ms), channels: ['inbox'] },
  });
  expect(created.status).toBe(201);
  return (created.body.notificationIds as string[])[0] ?? '';
}

/**
 * A notification for dave 8 s ahead whose schedule is then deleted behind Herald's back; resolves
 * once it is 0.5 s past due. 8 s, as in sweeps.test.ts: a schedule is made only when its fire time
 * (its lead time early, rounded down to the second) is at least 1 s after the request, so a
 * notification 4 s ahead got none when the create came late in a second on a quick machine.
 */
async function createWithoutSchedule(title: string): Promise<string> {
  const scheduledAt = Date.now() + 8_000;
  const id = await create(title, scheduledAt - Date.now());
  await scheduler.send(new DeleteScheduleCommand({ Name: id, GroupName: scheduleGroupName }));
  await new Promise((r) => setTimeout(r, Math.max(0, scheduledAt + 500 - Date.now())));
  return id;
}

async function deadLetter(queue: 'delivery-dlq' | 'scheduler-dlq', id: string): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: h.stack.queueUrls[queue],
      MessageBody: JSON.stringify({ tenantId: 'default', notificationId: id }),
      MessageAttributes: { HeraldDeadLetterReason: { DataType: 'String', StringValue: 'test' } },
    }),
  );
}

async function waiting(queue: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: h.stack.queueUrls[queue], AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function statusOf(id: string): Promise<string> {
  return String((await h.api('GET', `/v1/notifications/${id}`, { token: admin })).body.status);
}

describe('redrive', () => {
  it('moves the delivery DLQ back: the pending notification is delivered, the cancelled one is not', async () => {
    // Prepare: a pending one whose schedule is gone, past due; a cancelled one; both dead-lettered
    const cancelled = await create('Cancelled, redriven', 60_000);
    expect((await h.api('DELETE', `/v1/notifications/${cancelled}`, { token: admin })).status).toBe(200);
    const pending = await createWithoutSchedule('Redriven');
    await deadLetter('delivery-dlq', pending);
    await deadLetter('delivery-dlq', cancelled);
    const lines: string[] = [];

    // Act
    const reports = await redrive(sqs, { queue: 'delivery', stage: 'local' }, (line) => lines.push(line));

    // Assess
    expect(reports).toEqual([{ deadLetterQueue: 'delivery-dlq', destination: 'delivery', method: 'copy', moved: 2 }]);
    expect(lines).toContain('delivery-dlq -> delivery: moved 2 of 2');
    expect(await waiting('delivery-dlq')).toBe(0);
    await eventually(() => statusOf(pending), (s) => s === 'sent');
    await eventually(() => waiting('delivery'), (n) => n === 0);
    expect(await statusOf(cancelled)).toBe('cancelled');
  }, 90_000);

  it('moves the scheduler DLQ from the command line, printing its progress', async () => {
    // Prepare: a firing the scheduler could not deliver, for a notification now due
    const id = await createWithoutSchedule('From the scheduler DLQ');
    await deadLetter('scheduler-dlq', id);

    // Act
    const { stdout } = await run(process.execPath, [resolve(import.meta.dirname, '../../scripts/redrive.ts'), '--local', h.stack.httpUrl, '--queue', 'scheduler-dlq'], {
      timeout: 20_000,
    });

    // Assess
    expect(stdout).toContain('scheduler-dlq -> delivery: moved 1 of 1');
    expect(stdout).toContain('scheduler-dlq -> delivery: done, 1 message(s) moved (copy)');
    await eventually(() => statusOf(id), (s) => s === 'sent');
  }, 90_000);
});
