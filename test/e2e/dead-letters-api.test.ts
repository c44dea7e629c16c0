/**
 * The operators' dead-letter routes against a local stack: the depth of every DLQ, and a redrive
 * that puts a dead-lettered notification back on the delivery queue, where it is delivered.
 * Tenant roles get 403 (the authorization matrix proves it route by route); bad names get 400.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterQueues } from '../../lib/app-description.ts';
import { LOCAL_REGION } from '../../local/stack.ts';
import { eventually, inMs, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let h: Harness;
let operator: string;
let admin: string;
let sqs: SQSClient;

beforeAll(async () => {
  h = await startHarness();
  // An operator of another tenant: the queues are the deployment's, not a tenant's.
  operator = await h.token('ops', { role: 'operator', tenant: 'platform' });
  admin = await h.token('alice', { role: 'admin' });
  sqs = new SQSClient({ endpoint: h.stack.endpoints.sqs, region: LOCAL_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  sqs?.destroy();
  await h?.close();
});

interface Depth {
  readonly name: string;
  readonly redriveTo?: string;
  readonly messages: number;
  readonly inFlight: number;
}

async function depths(): Promise<Depth[]> {
  const response = await h.api('GET', '/v1/admin/dead-letters', { token: operator });
  expect(response.status).toBe(200);
  return response.body.queues as Depth[];
}

describe('the dead-letter routes', () => {
  it('list every dead-letter queue of the description with its depth and destination', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: h.stack.queueUrls['fanout-dlq'], MessageBody: '{"not":"a real step"}' }));
    const queues = await eventually(depths, (q) => q.find((d) => d.name === 'fanout-dlq')?.messages === 1);
    expect(queues.map((q) => q.name)).toEqual(deadLetterQueues().map((q) => q.name));
    expect(queues.find((q) => q.name === 'fanout-dlq')).toMatchObject({ redriveTo: 'fanout', messages: 1 });
    expect(queues.find((q) => q.name === 'metrics-dlq')?.redriveTo).toBeUndefined();
  });

  it('redrive a dead-lettered notification to the delivery queue, where it is delivered', async () => {
    expect((await h.api('PUT', '/v1/recipients/dave', { token: admin, body: {} })).status).toBe(201);
    const created = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ['dave'], title: 'Back', message: 'From the dead letters', scheduledAt: inMs(60 * 60 * 1000), channels: ['inbox'] },
    });
    expect(created.status).toBe(201);
    const id = (created.body.notificationIds as string[])[0] ?? '';
    // Due now, as if its schedule's firing had been dead-lettered.
    expect((await h.api('PATCH', `/v1/notifications/${id}`, { token: admin, body: { scheduledAt: inMs(1500) } })).status).toBe(200);
    await sqs.send(new SendMessageCommand({ QueueUrl: h.stack.queueUrls['scheduler-dlq'], MessageBody: JSON.stringify({ tenantId: 'default', notificationId: id }) }));
    await eventually(depths, (q) => q.find((d) => d.name === 'scheduler-dlq')?.messages === 1);

    const redriven = await h.api('POST', '/v1/admin/dead-letters/scheduler-dlq/redrive', { token: operator });
    expect(redriven.status).toBe(200);
    expect(redriven.body).toEqual({ name: 'scheduler-dlq', redriveTo: 'delivery', moved: 1, remaining: 0 });
    const sent = await eventually(
      () => h.api('GET', `/v1/notifications/${id}`, { token: admin }),
      (r) => r.body.status === 'sent',
    );
    expect(sent.body.status).toBe('sent');
  });

  it('refuse a queue whose messages cannot be moved back (409), and a name that is no dead-letter queue (400)', async () => {
    const metrics = await h.api('POST', '/v1/admin/dead-letters/metrics-dlq/redrive', { token: operator });
    expect(metrics.status).toBe(409);
    expect(metrics.body.error?.message).toMatch(/metrics-dlq cannot be redriven/);
    const unknown = await h.api('POST', '/v1/admin/dead-letters/delivery/redrive', { token: operator });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body.error)).toContain('queue');
  });

  it('refuse a tenant admin, whose tenant does not own the shared queues (403)', async () => {
    expect((await h.api('GET', '/v1/admin/dead-letters', { token: admin })).status).toBe(403);
    expect((await h.api('POST', '/v1/admin/dead-letters/delivery-dlq/redrive', { token: admin })).status).toBe(403);
  });
});
