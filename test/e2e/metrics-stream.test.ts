/**
 * The metrics counted from the notifications stream when their writes fail, end to end on the
 * local stack: a batch whose ADD fails is read again from the record reported and counted once;
 * a batch that keeps failing is given up, described on the metrics DLQ, and the stream goes on.
 * Faults on DynamoDB's UpdateItem reach only the metrics function here: neither creating nor
 * delivering a notification makes that call. The trigger gathers each batch for 5 s (its
 * batching window), so every count here comes 5 s or more after its write: the waits allow 60 s.
 */
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultRule } from '../../local/fault-rules.ts';
import { eventually, inMs, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let h: Harness;
let sqs: SQSClient;
let tenants = 0;

const failingAdds: FaultRule[] = [{ service: 'dynamodb', operation: 'UpdateItem', probability: 1, error: { statusCode: 400, code: 'ValidationException', message: 'refused by the test' } }];

beforeAll(async () => {
  h = await startHarness();
  sqs = new SQSClient({ endpoint: h.stack.endpoints.sqs, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, useQueueUrlAsEndpoint: false });
});

afterEach(async () => {
  await h.api('DELETE', '/_local/faults');
});

afterAll(async () => {
  sqs?.destroy();
  await h?.close();
});

/** An admin of a tenant of its own, with one recipient. */
async function aTenant(): Promise<string> {
  const admin = await h.token('ops', { role: 'admin', tenant: `stream-co-${++tenants}` });
  const put = await h.api('PUT', '/v1/recipients/zoe', { token: admin, body: {} });
  expect(put.status).toBe(201);
  return admin;
}

/** Creates a notification due in an hour (so only its creation is counted); its id. */
async function createOne(admin: string): Promise<string> {
  const created = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: ['zoe'], title: 'Later', message: 'in an hour', scheduledAt: inMs(3_600_000) } });
  expect(created.status).toBe(201);
  return (created.body.notificationIds as string[])[0] ?? '';
}

/** Cancels it: the stream holds its cancel after its creation, so once the cancel is counted, the creation's turn is over. */
async function cancel(admin: string, id: string): Promise<void> {
  const cancelled = await h.api('DELETE', `/v1/notifications/${id}`, { token: admin });
  expect(cancelled.status).toBe(200);
}

async function counted(admin: string): Promise<{ pending: number; cancelled: number }> {
  const metrics = await h.api('GET', '/v1/metrics?period=3600', { token: admin });
  return metrics.body.notifications as { pending: number; cancelled: number };
}

async function injectedAdds(): Promise<number> {
  const faults = await h.api('GET', '/_local/faults');
  return (faults.body.injected as { dynamodb?: Record<string, number> }).dynamodb?.UpdateItem ?? 0;
}

describe('the metrics function when its writes fail', () => {
  it('counts a batch whose ADD failed once, when the stream hands it over again', async () => {
    // Prepare
    const admin = await aTenant();
    await h.api('POST', '/_local/faults', { body: failingAdds });
    const id = await createOne(admin);
    await eventually(injectedAdds, (n) => n >= 2, 60_000);

    // Act
    await h.api('DELETE', '/_local/faults');
    await cancel(admin, id);
    const counts = await eventually(() => counted(admin), (n) => n.cancelled >= 1, 60_000);

    // Assess
    expect(counts).toMatchObject({ pending: 1, cancelled: 1 });
  }, 180_000);

  it('gives up a batch that keeps failing, describes it on the metrics DLQ, and counts what comes after it', async () => {
    // Prepare
    const admin = await aTenant();
    await h.api('POST', '/_local/faults', { body: failingAdds });
    const id = await createOne(admin);

    // Act
    const letters = await eventually(
      async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: h.stack.queueUrls['metrics-dlq'], MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))).Messages ?? [],
      (messages) => messages.length > 0,
      60_000,
    );
    await h.api('DELETE', '/_local/faults');
    await cancel(admin, id);
    const counts = await eventually(() => counted(admin), (n) => n.cancelled >= 1, 60_000);

    // Assess
    const letter = JSON.parse(letters[0]?.Body ?? '{}') as { requestContext?: Record<string, unknown>; DDBStreamBatchInfo?: Record<string, unknown> };
    expect(letter.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11, functionArn: expect.stringContaining(':function:herald-local-metrics') });
    expect(letter.DDBStreamBatchInfo).toMatchObject({ batchSize: 1, streamArn: expect.stringContaining(':table/herald-local-notifications/stream/') });
    // The creation given up is missing from the metrics; the cancel after it is counted.
    expect(counts).toMatchObject({ pending: 0, cancelled: 1 });
  }, 180_000);
});
