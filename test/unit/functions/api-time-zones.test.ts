/**
 * A time zone given in any case, on every route that takes one, is stored and answered as the tz
 * database spells it (`europe/paris` is `Europe/Paris`): the request schemas read it so
 * (shared/domain/time.ts, `normalizeTimeZone`), so the stores and EventBridge Scheduler never see
 * another spelling.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '../../../lib/app-description.ts';
import { DynamoRecipientStore } from '../../../shared/adapters/dynamo-recipient-store.ts';
import { aLambdaContext, anHttpEvent } from '../fakes/lambda.ts';
import { aRecipient } from '../fakes/fixtures.ts';
import { startLocalAws } from '../support/local-aws.ts';

// Config and clients are read once per process: set the environment before the handler loads.
const aws = await startLocalAws({ sqs: true, scheduler: true });
Object.assign(process.env, aws.env);
const { handler } = await import('../../../functions/api/handler.ts');

const recipients = new DynamoRecipientStore(aws.dynamo.documentClient, 'recipients', () => 'memberships');
const context = aLambdaContext('herald-test-api');
const senderClaims = { sub: 'sam', tenant: 'acme', role: '[sender]' };
const adminClaims = { sub: 'ops', tenant: 'acme', role: 'admin' };

afterAll(async () => {
  await aws.stop();
});

beforeAll(async () => {
  await recipients.put(aRecipient({ tenantId: 'acme', id: 'bob' }));
  await recipients.put(aRecipient({ tenantId: 'acme', id: 'sam' }));
});

function bodyOf(result: { body?: string }): unknown {
  return JSON.parse(result.body ?? 'null');
}

/** Every item of every table, as JSON text. */
async function everyItem(): Promise<Set<string>> {
  const items = new Set<string>();
  for (const table of tables) {
    const { Items = [] } = await aws.dynamo.documentClient.send(new ScanCommand({ TableName: table.name }));
    for (const item of Items) items.add(JSON.stringify(item));
  }
  return items;
}

/** Runs `act`, and answers with what it answered and every item it wrote (new or changed), in any table. */
async function writing<T>(act: () => Promise<T>): Promise<{ result: T; written: Record<string, unknown>[] }> {
  const before = await everyItem();
  const result = await act();
  const written = [...(await everyItem())].filter((item) => !before.has(item)).map((item) => JSON.parse(item) as Record<string, unknown>);
  return { result, written };
}

/** The schedules of the functions' group, as GetSchedule answers them. */
async function schedules(): Promise<{ ScheduleExpressionTimezone?: string }[]> {
  return (await Promise.all(aws.scheduleNames().map((name) => aws.schedule(name)))).filter((s) => s !== undefined);
}

/** A wall time an hour or more ahead, without an offset. */
const wallTimeAhead = new Date(Date.now() + 3 * 24 * 3600_000).toISOString().slice(0, 16);

describe('a time zone given in lower case', () => {
  it('is stored and answered as the tz database spells it on PUT /v1/recipients/{id}', async () => {
    // Prepare
    const event = anHttpEvent({ routeKey: 'PUT /v1/recipients/{id}', pathParameters: { id: 'carol' }, claims: senderClaims, body: JSON.stringify({ timezone: 'europe/paris' }) });

    // Act
    const { result, written } = await writing(() => handler(event, context));

    // Assess
    expect(result.statusCode).toBe(201);
    expect(bodyOf(result)).toMatchObject({ id: 'carol', timezone: 'Europe/Paris' });
    expect(written).toContainEqual(expect.objectContaining({ id: 'carol', timezone: 'Europe/Paris' }));
    expect(JSON.stringify(written)).not.toContain('europe/paris');
  });

  it('is stored and answered as the tz database spells it on POST /v1/recipients/batch', async () => {
    // Prepare
    const event = anHttpEvent({ routeKey: 'POST /v1/recipients/batch', claims: senderClaims, body: JSON.stringify({ recipients: [{ id: 'carol', timezone: 'america/argentina/buenos_aires' }] }) });

    // Act
    const { result, written } = await writing(() => handler(event, context));

    // Assess
    expect(result.statusCode).toBeLessThan(300);
    expect(written).toContainEqual(expect.objectContaining({ id: 'carol', timezone: 'America/Argentina/Buenos_Aires' }));
    expect(JSON.stringify(written)).not.toContain('america/argentina/buenos_aires');
  });

  it('is stored and answered as the tz database spells it on PATCH /v1/me', async () => {
    // Prepare: sam is in the directory
    const event = anHttpEvent({ routeKey: 'PATCH /v1/me', claims: senderClaims, body: JSON.stringify({ timezone: 'asia/calcutta' }) });

    // Act
    const { result, written } = await writing(() => handler(event, context));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ timezone: 'Asia/Calcutta' });
    expect(written).toContainEqual(expect.objectContaining({ id: 'sam', timezone: 'Asia/Calcutta' }));
    expect(JSON.stringify(written)).not.toContain('asia/calcutta');
  });

  it('is stored and answered as the tz database spells it on PUT /v1/settings', async () => {
    // Prepare
    const event = anHttpEvent({ routeKey: 'PUT /v1/settings', claims: adminClaims, body: JSON.stringify({ defaultTimezone: 'utc' }) });

    // Act
    const { result, written } = await writing(() => handler(event, context));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ defaultTimezone: 'UTC' });
    expect(written).toContainEqual(expect.objectContaining({ defaultTimezone: 'UTC' }));
    expect(JSON.stringify(written)).not.toContain('"utc"');
  });

  it('is stored and answered as the tz database spells it on POST /v1/notifications', async () => {
    // Prepare
    const event = anHttpEvent({
      routeKey: 'POST /v1/notifications',
      claims: senderClaims,
      body: JSON.stringify({ recipients: ['bob'], title: 'Standup', message: 'Soon', scheduledAt: wallTimeAhead, timezone: 'europe/paris' }),
    });

    // Act
    const { result, written } = await writing(() => handler(event, context));

    // Assess
    expect(result.statusCode).toBe(201);
    expect(bodyOf(result)).toMatchObject({ schedule: [{ recipientId: 'bob', timezone: 'Europe/Paris' }] });
    expect(written).toContainEqual(expect.objectContaining({ recipientId: 'bob', timezone: 'Europe/Paris' }));
    expect(JSON.stringify(written)).not.toContain('europe/paris');
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
    const { result, written } = await writing(() => handler(event, context));

    // Assess
    expect(result.statusCode).toBe(201);
    expect(written).toContainEqual(expect.objectContaining({ recipientId: 'bob', timezone: 'Europe/Paris' }));
    expect(JSON.stringify(written)).not.toContain('EUROPE/PARIS');
  });

  it('is stored as the tz database spells it on POST /v1/broadcasts', async () => {
    // Prepare
    const event = anHttpEvent({
      routeKey: 'POST /v1/broadcasts',
      claims: adminClaims,
      body: JSON.stringify({ audience: { all: true }, title: 'Standup', message: 'Soon', scheduledAt: wallTimeAhead, timezone: 'europe/paris' }),
    });

    // Act
    const { result, written } = await writing(() => handler(event, context));

    // Assess
    expect(result.statusCode).toBe(201);
    expect(written).toContainEqual(expect.objectContaining({ timezone: 'Europe/Paris' }));
    expect(JSON.stringify(written)).not.toContain('europe/paris');
  });

  it('is stored, answered and put on EventBridge Scheduler as the tz database spells it on POST /v1/recurring-notifications', async () => {
    // Prepare
    const event = anHttpEvent({
      routeKey: 'POST /v1/recurring-notifications',
      claims: senderClaims,
      body: JSON.stringify({ recipients: ['bob'], title: 'Standup', message: 'At 9', schedule: { cron: '0 9 * * MON-FRI', timezone: 'europe/paris' } }),
    });

    // Act
    const { result, written } = await writing(() => handler(event, context));

    // Assess
    expect(result.statusCode).toBe(201);
    expect(bodyOf(result)).toMatchObject({ schedule: { timezone: 'Europe/Paris' } });
    expect(written).toContainEqual(expect.objectContaining({ schedule: expect.objectContaining({ timezone: 'Europe/Paris' }) }));
    expect(JSON.stringify(written)).not.toContain('europe/paris');
    expect((await schedules()).map((s) => s.ScheduleExpressionTimezone)).toContain('Europe/Paris');
    expect((await schedules()).map((s) => s.ScheduleExpressionTimezone)).not.toContain('europe/paris');
  });
});
