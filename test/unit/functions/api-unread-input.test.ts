/**
 * A write of the api given input it does not read (a query parameter, a body where none is
 * documented) is refused before anything is called, on the local DynamoDB, SQS and Scheduler
 * (their faultable endpoints, whose hook sees every call the function makes).
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { aLambdaContext, anHttpEvent } from '../fakes/lambda.ts';
import { startLocalAws } from '../support/local-aws.ts';

// Config and clients are read once per process: set the environment before the handler loads.
const aws = await startLocalAws({ sqs: true, scheduler: true, extra: { HERALD_TENANT_REQUESTS_PER_SECOND: '0' } });
Object.assign(process.env, aws.env);
const { handler } = await import('../../../functions/api/handler.ts');
const { bodilessWrites } = await import('../../../functions/api/routes.ts');
const { routeDocs } = await import('../../../functions/api/route-docs.ts');

const context = aLambdaContext('herald-test-api');
const adminClaims = { sub: 'ops', tenant: 'acme', role: '[admin operator]' };

const v1Writes = Object.keys(routeDocs).filter((routeKey) => !routeKey.startsWith('GET ') && routeKey.split(' ')[1]?.startsWith('/v1/'));
const pathParametersOf = (routeKey: string): Record<string, string> =>
  Object.fromEntries([...routeKey.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name as string, name === 'id' ? 'ntf_01M8RNF0EG4P447TN6NX3VGTZT' : 'x']));

afterAll(async () => {
  await aws.stop();
});

beforeEach(() => {
  aws.calls.reset();
});

function bodyOf(result: { body?: string }): { error?: { details?: { field: string }[] } } {
  return JSON.parse(result.body ?? 'null') as { error?: { details?: { field: string }[] } };
}

describe('a write of the api given input it does not read', () => {
  it('lists as body-less exactly the /v1 writes whose docs declare no body', () => {
    // Act
    const documentedBodiless = v1Writes.filter((routeKey) => routeDocs[routeKey]?.body === undefined);

    // Assess
    expect([...bodilessWrites].sort()).toEqual(documentedBodiless.sort());
  });

  it.each(v1Writes)('%s answers 400 naming a query parameter, and calls nothing', async (routeKey) => {
    // Prepare
    const event = { ...anHttpEvent({ routeKey, pathParameters: pathParametersOf(routeKey), claims: adminClaims }), rawQueryString: 'dryRun=true', queryStringParameters: { dryRun: 'true' } };

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result).error?.details).toEqual([{ field: 'dryRun', message: 'is not a known field' }]);
    expect(aws.calls.calls()).toEqual([]);
  });

  it.each([...bodilessWrites])('%s answers 400 naming what its body holds, and calls nothing', async (routeKey) => {
    // Prepare
    const event = anHttpEvent({ routeKey, pathParameters: pathParametersOf(routeKey), claims: adminClaims, body: '{"before":"2026-12-01T00:00:00Z"}' });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result).error?.details).toEqual([{ field: 'before', message: 'is not a known field' }]);
    expect(aws.calls.calls()).toEqual([]);
  });

  it('answers 400 naming the body when a body-less write gets one that is not JSON', async () => {
    // Prepare
    const event = anHttpEvent({ routeKey: 'POST /v1/me/inbox/read-all', claims: adminClaims, body: '{"a":' });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(400);
    expect(aws.calls.calls()).toEqual([]);
  });

  it('still takes an empty object as the body of a body-less write, as the docs example sends', async () => {
    // Prepare: no such notification
    const event = anHttpEvent({ routeKey: 'DELETE /v1/notifications/{id}', pathParameters: { id: 'ntf_01M8RNF0EG4P447TN6NX3VGTZT' }, claims: adminClaims, body: '{}' });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.statusCode).toBe(404);
    expect(aws.calls.calls('dynamodb')).toContain('GetItem');
  });
});
