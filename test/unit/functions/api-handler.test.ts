/**
 * The api function as the HTTP API invokes it, on the local DynamoDB, SQS and Scheduler (their
 * faultable endpoints, as the function calls them): status codes and bodies, and what a request
 * left in the tables and schedules, or that it called nothing at all.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoNotificationStore, notificationKey } from '../../../shared/adapters/dynamo-notification-store.ts';
import { DynamoRecipientStore } from '../../../shared/adapters/dynamo-recipient-store.ts';
import { aLambdaContext, anHttpEvent } from '../fakes/lambda.ts';
import { aNotification, aRecipient } from '../fakes/fixtures.ts';
import { newNotificationId } from '../../../shared/domain/ids.ts';
import { startLocalAws } from '../support/local-aws.ts';

// Config and clients are read once per process: set the environment before the handler loads.
// The tenant request quota off: its counter is written for every request with a token, refused or
// not, and "called nothing" is to mean the request's own work.
const aws = await startLocalAws({ sqs: true, scheduler: true, extra: { HERALD_TENANT_REQUESTS_PER_SECOND: '0' } });
Object.assign(process.env, aws.env);
const { handler } = await import('../../../functions/api/handler.ts');

const notifications = new DynamoNotificationStore(aws.dynamo.documentClient, 'notifications');
const recipients = new DynamoRecipientStore(aws.dynamo.documentClient, 'recipients', () => 'memberships');
const context = aLambdaContext('herald-test-api');
const senderClaims = { sub: 'sam', tenant: 'acme', role: '[sender]' };

afterAll(async () => {
  await aws.stop();
});

beforeAll(async () => {
  await recipients.put(aRecipient({ tenantId: 'acme', id: 'bob' }));
});

beforeEach(() => {
  aws.calls.reset();
});

function bodyOf(result: { body?: string }): unknown {
  return JSON.parse(result.body ?? 'null');
}

describe('the api handler', () => {
  it('answers the health check without a token', async () => {
    // Prepare
    const event = anHttpEvent({ routeKey: 'GET /health' });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ status: 'ok' });
  });

  it('schedules notifications and answers 201 with their ids', async () => {
    // Prepare: bob is in the directory
    const dueAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60 * 60 * 1000);
    const firesAt = new Date(dueAt.getTime() - 60_000).toISOString().slice(0, 19);
    const event = anHttpEvent({
      routeKey: 'POST /v1/notifications',
      claims: senderClaims,
      body: JSON.stringify({ recipients: ['bob'], title: 'Standup', message: 'Soon', scheduledAt: dueAt.toISOString() }),
    });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(201);
    const body = bodyOf(result) as { notificationIds: string[] };
    expect(body).toEqual({ notificationIds: [expect.stringMatching(/^ntf_/)], count: 1, scheduledAt: dueAt.toISOString() });
    expect(await notifications.get('acme', body.notificationIds[0] ?? '')).toMatchObject({ recipientId: 'bob', status: 'pending', scheduledAt: dueAt.toISOString() });
    expect(aws.calls.calls('dynamodb').filter((operation) => operation === 'BatchWriteItem')).toHaveLength(1);
    const schedules = await Promise.all(aws.scheduleNames().map((name) => aws.schedule(name)));
    expect(schedules.map((schedule) => schedule?.ScheduleExpression)).toContain(`at(${firesAt})`);
    expect(aws.calls.calls('sqs')).toEqual([]);
  });

  it('maps a ValidationError to 400 with code, message and the fields that were wrong', async () => {
    // Prepare
    const event = anHttpEvent({
      routeKey: 'POST /v1/notifications',
      claims: senderClaims,
      body: JSON.stringify({ recipients: [], title: 'Standup', message: 'Soon', colour: 'red' }),
    });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(400);
    expect(result.headers).toEqual({ 'content-type': 'application/json' });
    expect(bodyOf(result)).toEqual({
      error: {
        code: 'VALIDATION_ERROR',
        message: expect.stringContaining('recipients'),
        details: expect.arrayContaining([
          { field: 'recipients', message: 'must name at least one recipient' },
          { field: 'colour', message: 'is not a known field' },
        ]),
      },
    });
    expect(aws.calls.calls()).toEqual([]);
  });

  it('answers 400 to a body that is not JSON', async () => {
    // Prepare
    const event = anHttpEvent({ routeKey: 'POST /v1/notifications', claims: senderClaims, body: '{"recipients": [' });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toEqual({
      error: {
        code: 'VALIDATION_ERROR',
        message: expect.stringContaining('body must be valid JSON'),
        details: [{ field: 'body', message: expect.stringContaining('must be valid JSON') }],
      },
    });
  });

  it('answers 401 when the token carries no subject', async () => {
    // Prepare
    const event = anHttpEvent({
      routeKey: 'POST /v1/notifications',
      claims: { tenant: 'acme', role: 'admin' },
      body: JSON.stringify({ recipients: ['bob'], title: 'Standup', message: 'Soon' }),
    });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(401);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    expect(aws.calls.calls()).toEqual([]);
  });

  it('answers 401 when the request carries no claims at all', async () => {
    // Prepare
    const event = anHttpEvent({ routeKey: 'GET /v1/recipients/{id}', pathParameters: { id: 'bob' } });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(401);
  });

  it('answers 403 to a plain user notifying someone else', async () => {
    // Prepare
    const event = anHttpEvent({
      routeKey: 'POST /v1/notifications',
      claims: { sub: 'bob', tenant: 'acme' },
      body: JSON.stringify({ recipients: ['carol'], title: 'Hi', message: 'Hello' }),
    });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(403);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });

  it('answers 500 that says nothing internal when something unexpected fails', async () => {
    // Prepare: the function's role may not read the table (a deployment gone wrong), and DynamoDB says so in detail
    const denied = 'User: arn:aws:sts::111122223333:assumed-role/herald-api/herald-api is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/notifications';
    aws.calls.fail('dynamodb', 'GetItem', { statusCode: 400, code: 'AccessDeniedException', message: denied });
    const event = anHttpEvent({
      routeKey: 'GET /v1/notifications/{id}',
      pathParameters: { id: aNotification().id },
      claims: senderClaims,
    });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(500);
    expect(bodyOf(result)).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
    expect(result.body).not.toContain('111122223333');
    expect(result.body).not.toContain('notifications');
  });

  it('returns the view of a notification its creator asks for', async () => {
    // Prepare
    const n = aNotification({ createdBy: 'sam' });
    await notifications.createMany([n]);
    await aws.dynamo.documentClient.send(new UpdateCommand({ TableName: 'notifications', Key: notificationKey('acme', n.id), UpdateExpression: 'SET claimToken = :secret', ExpressionAttributeValues: { ':secret': 'secret' } }));
    const event = anHttpEvent({ routeKey: 'GET /v1/notifications/{id}', pathParameters: { id: n.id }, claims: senderClaims });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ id: n.id, status: 'pending', recipientId: 'bob' });
    expect(result.body).not.toContain('secret');
  });

  it.each([
    ['its recipient, a plain user', { sub: 'bob', tenant: 'acme' }, false],
    ['an admin', { sub: 'ops', tenant: 'acme', role: 'admin' }, true],
  ])('shows %s an old failed notification (no error category stored) with the provider text only to whoever runs the tenant', async (_who, claims, diagnostic) => {
    // Prepare: stored before categories were written with errors
    const ses = 'MessageRejected: Email address is not verified. The following identities failed the check: arn:aws:ses:eu-west-1:111122223333:identity/example.com';
    const at = '2030-01-01T12:00:00.000Z';
    const n = aNotification({ id: newNotificationId(new Date()), status: 'failed', attempts: 1, lastError: `Every channel failed (email: ${ses})`, deliveries: { email: { status: 'failed', at, error: ses } } });
    await notifications.createMany([n]);
    const event = anHttpEvent({ routeKey: 'GET /v1/notifications/{id}', pathParameters: { id: n.id }, claims });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ lastErrorCategory: 'unclassified', willRetry: false, deliveries: { email: { status: 'failed', errorCategory: 'unclassified' } } });
    expect(result.body?.includes('111122223333')).toBe(diagnostic);
    expect(Object.keys(bodyOf(result) as object).includes('lastError')).toBe(diagnostic);
  });

  it('answers 400 naming the path parameter for a malformed notification id', async () => {
    // Prepare
    const event = anHttpEvent({ routeKey: 'GET /v1/notifications/{id}', pathParameters: { id: 'acme#x' }, claims: senderClaims });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { details: [{ field: 'path parameter id', message: 'is not a notification id' }] } });
  });

  it('answers 201 when a recipient is registered', async () => {
    // Prepare
    const event = anHttpEvent({
      routeKey: 'PUT /v1/recipients/{id}',
      pathParameters: { id: 'carol' },
      claims: senderClaims,
      body: JSON.stringify({ email: 'carol@example.com' }),
    });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(201);
    expect(bodyOf(result)).toMatchObject({ id: 'carol', email: 'carol@example.com', timezone: null });
    expect(await recipients.get('acme', 'carol')).toMatchObject({ id: 'carol', email: 'carol@example.com' });
  });

  it.each([
    ['PUT /v1/recipients/{id}', 'email', `${'l'.repeat(65)}@example.com`, 'must have at most 64 characters before the @ (RFC 5321, 4.5.3.1.1)'],
    ['PUT /v1/recipients/{id}', 'email', 'a@ex-.com', 'must not have a part of its domain that starts or ends with a hyphen (RFC 1035, 2.3.1)'],
    ['PATCH /v1/me', 'email', `bob@${'a'.repeat(64)}.com`, 'must have at most 63 characters between two dots of its domain (RFC 1035, 2.3.4)'],
    ['PATCH /v1/me', 'phone', '+123', 'must be an E.164 phone number: + and 7 to 15 digits, no spaces, e.g. +14155550100'],
  ])('answers %s 400 naming %s for an address that cannot be one: %s', async (routeKey, field, value, message) => {
    // Prepare
    const pathParameters = routeKey.includes('{id}') ? { pathParameters: { id: 'carol' } } : {};
    const event = anHttpEvent({ routeKey, ...pathParameters, claims: senderClaims, body: JSON.stringify({ [field]: value }) });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ field, message }] } });
    expect(aws.calls.calls()).toEqual([]);
  });

  it.each([
    ['https:///x', 'must name a host after https://'],
    ['https://user:secret@push.example.com/x', 'must not carry a user name or password'],
  ])('answers a push subscription to %s 400 naming the endpoint: %s', async (endpoint, message) => {
    // Prepare: keys a browser would give, so that only the endpoint is wrong
    const keys = { p256dh: createECDH('prime256v1').generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') };
    const event = anHttpEvent({ routeKey: 'POST /v1/me/push-subscriptions', claims: senderClaims, body: JSON.stringify({ endpoint, keys }) });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ field: 'endpoint', message }] } });
    expect(aws.calls.calls()).toEqual([]);
  });

  it('answers 404 for a route it does not serve', async () => {
    // Prepare
    const event = anHttpEvent({ routeKey: 'PUT /v1/no-such-thing', claims: senderClaims });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('answers 404 for a path a greedy route caught that no declared route is, naming the request as sent', async () => {
    // Prepare: the Celery routes end in `/` and are deployed as `<prefix>/{proxy+}` (lib/http-gateway-routes.ts)
    const event = anHttpEvent({ routeKey: 'GET /api/notifications/{proxy+}', path: '/api/notifications/abc', pathParameters: { proxy: 'abc' }, claims: senderClaims });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toEqual({ error: { code: 'NOT_FOUND', message: 'No route for GET /api/notifications/abc' } });
  });
});
