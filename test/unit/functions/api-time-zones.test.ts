/**
 * A time zone given in any case, on every route that takes one, is stored and answered as the tz
 * database spells it (`europe/paris` is `Europe/Paris`): the request schemas read it so
 * (shared/domain/time.ts, `normalizeTimeZone`), so the stores and EventBridge Scheduler never see
 * another spelling.
 */
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { aLambdaContext, anHttpEvent } from '../fakes/lambda.ts';

// Config and clients are read once per process: set the environment before the handler loads.
Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  HERALD_TABLE_NOTIFICATIONS: 'test-notifications',
  HERALD_TABLE_RECIPIENTS: 'test-recipients',
  HERALD_TABLE_RECURRING: 'test-recurring',
  HERALD_TABLE_BROADCASTS: 'test-broadcasts',
  HERALD_TABLE_BROADCAST_RECIPIENTS: 'test-broadcast-recipients',
  HERALD_TABLE_IDEMPOTENCY: 'test-idempotency',
  HERALD_QUEUE_DELIVERY_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/test-delivery',
  HERALD_QUEUE_DELIVERY_ARN: 'arn:aws:sqs:eu-west-1:111122223333:test-delivery',
  HERALD_QUEUE_FANOUT_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/test-fanout',
  HERALD_QUEUE_FANOUT_ARN: 'arn:aws:sqs:eu-west-1:111122223333:test-fanout',
  HERALD_QUEUE_FANOUT_DLQ_ARN: 'arn:aws:sqs:eu-west-1:111122223333:test-fanout-dlq',
  HERALD_QUEUE_SCHEDULER_DLQ_ARN: 'arn:aws:sqs:eu-west-1:111122223333:test-scheduler-dlq',
  HERALD_SCHEDULE_GROUP: 'test-herald',
  HERALD_SCHEDULER_ROLE_ARN: 'arn:aws:iam::111122223333:role/test-scheduler',
});
const { handler } = await import('../../../functions/api/handler.ts');

const dbMock = mockClient(DynamoDBDocumentClient);
const schedulerMock = mockClient(SchedulerClient);
const sqsMock = mockClient(SQSClient);
const context = aLambdaContext('herald-test-api');
const senderClaims = { sub: 'sam', tenant: 'acme', role: '[sender]' };
const adminClaims = { sub: 'ops', tenant: 'acme', role: 'admin' };

beforeEach(() => {
  dbMock.reset();
  schedulerMock.reset();
  sqsMock.reset();
  dbMock.on(GetCommand).resolves({});
  dbMock.on(PutCommand).resolves({});
  dbMock.on(UpdateCommand).resolves({});
  dbMock.on(TransactWriteCommand).resolves({});
  dbMock.on(BatchWriteCommand).resolves({});
  dbMock.on(BatchGetCommand).resolves({ Responses: { 'test-recipients': [{ pk: 'acme#bob', tenantId: 'acme', id: 'bob', groups: [] }] } });
  schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
});

function bodyOf(result: { body?: string }): unknown {
  return JSON.parse(result.body ?? 'null');
}

/** Every item the handler wrote to DynamoDB, whichever command wrote it. */
function writtenItems(): Record<string, unknown>[] {
  const puts = dbMock.commandCalls(PutCommand).map((call) => call.args[0].input.Item ?? {});
  const batches = dbMock.commandCalls(BatchWriteCommand).flatMap((call) => Object.values(call.args[0].input.RequestItems ?? {}).flat().map((request) => request.PutRequest?.Item ?? {}));
  const transactions = dbMock.commandCalls(TransactWriteCommand).flatMap((call) => (call.args[0].input.TransactItems ?? []).map((item) => item.Put?.Item ?? {}));
  return [...puts, ...batches, ...transactions];
}

/** A wall time an hour or more ahead, without an offset. */
const wallTimeAhead = new Date(Date.now() + 3 * 24 * 3600_000).toISOString().slice(0, 16);

describe('a time zone given in lower case', () => {
  it('is stored and answered as the tz database spells it on PUT /v1/recipients/{id}', async () => {
    // Prepare
    const event = anHttpEvent({ routeKey: 'PUT /v1/recipients/{id}', pathParameters: { id: 'carol' }, claims: senderClaims, body: JSON.stringify({ timezone: 'europe/paris' }) });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(201);
    expect(bodyOf(result)).toMatchObject({ id: 'carol', timezone: 'Europe/Paris' });
    expect(writtenItems()).toEqual([expect.objectContaining({ id: 'carol', timezone: 'Europe/Paris' })]);
  });

  it('is stored and answered as the tz database spells it on POST /v1/recipients/batch', async () => {
    // Prepare
    const event = anHttpEvent({ routeKey: 'POST /v1/recipients/batch', claims: senderClaims, body: JSON.stringify({ recipients: [{ id: 'carol', timezone: 'america/argentina/buenos_aires' }] }) });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBeLessThan(300);
    expect(writtenItems()).toEqual([expect.objectContaining({ id: 'carol', timezone: 'America/Argentina/Buenos_Aires' })]);
  });

  it('is stored and answered as the tz database spells it on PATCH /v1/me', async () => {
    // Prepare
    const sam = { tenantId: 'acme', id: 'sam', groups: [], createdAt: '2030-01-01T00:00:00.000Z', updatedAt: '2030-01-01T00:00:00.000Z', version: 1 };
    dbMock.on(GetCommand, { TableName: 'test-recipients', Key: { pk: 'acme#sam' } }).resolves({ Item: { pk: 'acme#sam', ...sam } });
    const event = anHttpEvent({ routeKey: 'PATCH /v1/me', claims: senderClaims, body: JSON.stringify({ timezone: 'asia/calcutta' }) });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ timezone: 'Asia/Calcutta' });
    expect(writtenItems()).toEqual([expect.objectContaining({ id: 'sam', timezone: 'Asia/Calcutta' })]);
  });

  it('is stored and answered as the tz database spells it on PUT /v1/settings', async () => {
    // Prepare
    const event = anHttpEvent({ routeKey: 'PUT /v1/settings', claims: adminClaims, body: JSON.stringify({ defaultTimezone: 'utc' }) });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ defaultTimezone: 'UTC' });
    expect(writtenItems()).toEqual([expect.objectContaining({ defaultTimezone: 'UTC' })]);
  });

  it('is stored and answered as the tz database spells it on POST /v1/notifications', async () => {
    // Prepare
    const event = anHttpEvent({
      routeKey: 'POST /v1/notifications',
      claims: senderClaims,
      body: JSON.stringify({ recipients: ['bob'], title: 'Standup', message: 'Soon', scheduledAt: wallTimeAhead, timezone: 'europe/paris' }),
    });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(201);
    expect(bodyOf(result)).toMatchObject({ schedule: [{ recipientId: 'bob', timezone: 'Europe/Paris' }] });
    expect(writtenItems()).toEqual([expect.objectContaining({ recipientId: 'bob', timezone: 'Europe/Paris' })]);
  });

  it('is stored as the tz database spells it on the Celery route POST /api/notifications/schedule/', async () => {
    // Prepare
    // As API Gateway delivers a path that ends in `/`: on its greedy route (lib/http-gateway-routes.ts).
    const event = anHttpEvent({
      routeKey: 'POST /api/notifications/{proxy+}',
      path: '/api/notifications/schedule/',
      pathParameters: { proxy: 'schedule/' },
      claims: senderClaims,
      body: JSON.stringify({ recipients: ['bob'], title: 'Standup', message: 'Soon', scheduled_at: wallTimeAhead, timezone: 'EUROPE/PARIS' }),
    });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(201);
    expect(writtenItems()).toEqual([expect.objectContaining({ recipientId: 'bob', timezone: 'Europe/Paris' })]);
  });

  it('is stored as the tz database spells it on POST /v1/broadcasts', async () => {
    // Prepare
    const event = anHttpEvent({
      routeKey: 'POST /v1/broadcasts',
      claims: adminClaims,
      body: JSON.stringify({ audience: { all: true }, title: 'Standup', message: 'Soon', scheduledAt: wallTimeAhead, timezone: 'europe/paris' }),
    });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(201);
    expect(writtenItems()).toContainEqual(expect.objectContaining({ timezone: 'Europe/Paris' }));
  });

  it('is stored, answered and put on EventBridge Scheduler as the tz database spells it on POST /v1/recurring-notifications', async () => {
    // Prepare
    const event = anHttpEvent({
      routeKey: 'POST /v1/recurring-notifications',
      claims: senderClaims,
      body: JSON.stringify({ recipients: ['bob'], title: 'Standup', message: 'At 9', schedule: { cron: '0 9 * * MON-FRI', timezone: 'europe/paris' } }),
    });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(201);
    expect(bodyOf(result)).toMatchObject({ schedule: { timezone: 'Europe/Paris' } });
    expect(writtenItems()).toContainEqual(expect.objectContaining({ schedule: expect.objectContaining({ timezone: 'Europe/Paris' }) }));
    expect(schedulerMock).toHaveReceivedCommandWith(CreateScheduleCommand, { ScheduleExpressionTimezone: 'Europe/Paris' });
  });
});
