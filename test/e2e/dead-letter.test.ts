/**
 * After the last retry, end to end: SES answers every send with a 503 (a fault rule of the local
 * stack), the retry policy runs in seconds, and the notification ends `failed` with the reason
 * while its message lands in the delivery DLQ saying why. A permanent refusal fails at once and
 * is not dead-lettered. Then the redrive of that dead letter delivers nothing: failed is final.
 */
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REGION } from '../../local/stack.ts';
import { redrive } from '../../scripts/redrive.ts';
import { eventually, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let h: Harness;
let admin: string;
let sqs: SQSClient;
/** The notification the first test fails for good. */
let deadLettered = '';

beforeAll(async () => {
  h = await startHarness({
    environment: { HERALD_RETRY_BASE_SECONDS: '1', HERALD_RETRY_FACTOR: '2', HERALD_RETRY_MAX_RETRIES: '2', HERALD_RETRY_JITTER: '0' },
  });
  admin = await h.token('ops', { role: 'admin' });
  expect((await h.api('PUT', '/v1/recipients/frank', { token: admin, body: { email: 'frank@example.com' } })).status).toBe(201);
  sqs = new SQSClient({
    endpoint: h.stack.endpoints.sqs,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    useQueueUrlAsEndpoint: false,
  });
});

afterAll(async () => {
  sqs?.destroy();
  await h?.close();
});

async function setSesFault(statusCode: number, code: string): Promise<void> {
  const response = await fetch(`${h.stack.httpUrl}/_local/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ service: 'ses', operation: 'SendEmail', probability: 1, error: { statusCode, code } }]),
  });
  expect(response.status).toBe(200);
}

async function notify(title: string): Promise<string> {
  const created = await h.api('POST', '/v1/notifications', {
    token: admin,
    body: { recipients: ['frank'], title, message: 'SES is down', channels: ['inbox', 'email'] },
  });
  expect(created.status).toBe(201);
  return (created.body.notificationIds as string[])[0] ?? '';
}

/** The messages in the delivery DLQ, looked at and left there (visible again at once). */
async function deadLetters(): Promise<Message[]> {
  const QueueUrl = h.stack.queueUrls['delivery-dlq'];
  const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
  for (const message of Messages) {
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
  }
  return Messages;
}

describe('a notification that fails after its last retry', () => {
  it('ends failed with the reason, and its message is in the delivery DLQ saying why', async () => {
    // Prepare
    await setSesFault(503, 'ServiceUnavailable');

    // Act: three attempts, 1 s then 2 s apart
    const id = await notify('Retried then dead-lettered');
    deadLettered = id;
    const failed = await eventually(
      async () => (await h.api('GET', `/v1/notifications/${id}`, { token: admin })).body,
      (n) => n.status === 'failed',
      30_000,
    );

    // Assess
    expect(failed).toMatchObject({ attempts: 3, deliveries: { inbox: { status: 'sent' } } });
    expect(String(failed.lastError)).toMatch(/^Gave up after 3 attempts: email: ServiceUnavailable/);
    // The channel that was still to be tried again is recorded failed, with its last error.
    expect((failed.deliveries as Record<string, unknown>).email).toMatchObject({ status: 'failed', error: expect.stringMatching(/^ServiceUnavailable/) as string });
    const letters = await eventually(deadLetters, (messages) => messages.some((m) => m.Body?.includes(id)), 10_000);
    const letter = letters.find((m) => m.Body?.includes(id));
    expect(JSON.parse(letter?.Body ?? '{}')).toEqual({ tenantId: 'default', notificationId: id });
    expect(letter?.MessageAttributes?.HeraldDeadLetterReason?.StringValue).toBe(failed.lastError);
    expect(letter?.MessageAttributes?.HeraldAttempts?.StringValue).toBe('3');
  }, 90_000);

  it('fails at once on a permanent refusal, without a retry or a dead letter', async () => {
    // Prepare
    await setSesFault(400, 'MessageRejected');

    // Act
    const id = await notify('Rejected at once');
    // Settled: the channel outcomes are written before the notification's final state, so wait for that.
    const failed = await eventually(
      async () => (await h.api('GET', `/v1/notifications/${id}`, { token: admin })).body,
      (n) => n.status !== 'pending' && n.status !== 'sending',
      15_000,
    );

    // Assess: the inbox got it, so the notification is sent, with the email failed for good
    expect(failed).toMatchObject({ status: 'sent', attempts: 1, deliveries: { inbox: { status: 'sent' }, email: { status: 'failed' } } });
    await new Promise((r) => setTimeout(r, 500));
    expect((await deadLetters()).some((m) => m.Body?.includes(id))).toBe(false);
  });

  it('stays failed when its dead letter is redriven once SES is back: failed is final for delivery', async () => {
    // Prepare
    expect(deadLettered).not.toBe('');
    expect((await fetch(`${h.stack.httpUrl}/_local/faults`, { method: 'DELETE' })).status).toBe(200);

    // Act
    const [report] = await redrive(sqs, { queue: 'delivery', stage: 'local' }, () => undefined);
    await eventually(deadLetters, (messages) => messages.length === 0, 10_000);
    await new Promise((r) => setTimeout(r, 1_000));

    // Assess
    expect(report?.moved).toBeGreaterThanOrEqual(1);
    expect((await h.api('GET', `/v1/notifications/${deadLettered}`, { token: admin })).body).toMatchObject({ status: 'failed', attempts: 3 });
    const store = (await (await fetch(`${h.stack.sesUrl}/store`)).json()) as { emails: { subject: string }[] };
    expect(store.emails.filter((e) => e.subject === 'Retried then dead-lettered')).toEqual([]);
  });
});
