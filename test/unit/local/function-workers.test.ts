/**
 * A real handler (ws-connect) in its sandbox, told exactly what its description grants: with its
 * grant it records the connection; without it, it fails at cold start as it would on AWS.
 */
import { liveKey } from '../../../shared/adapters/dynamo-live-state-store.ts';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { functions } from '../../../lib/app-description.ts';
import type { FunctionDescription } from '../../../lib/app-description.ts';
import type { EnvironmentSources } from '../../../lib/function-environment.ts';
import { localEnvironmentSources, localFunctionEnvironment, startFunctionWorkers } from '../../../local/function-workers.ts';
import type { FunctionEndpoints } from '../../../local/function-workers.ts';
import { LambdaFunctionError, loadFunction } from '../../../local/lambda-runtime.ts';
import type { LocalFunction } from '../../../local/lambda-runtime.ts';
import { startDynalite } from '../support/dynalite.ts';
import type { Dynalite } from '../support/dynalite.ts';

const connect = functions.find((fn) => fn.name === 'ws-connect') as FunctionDescription;
/** Nothing listens there: a function that calls a service it was not meant to fails fast. */
const nowhere = 'http://127.0.0.1:9';

function aConnectEvent(connectionId: string): unknown {
  return {
    isBase64Encoded: false,
    requestContext: {
      apiId: 'local',
      connectedAt: 1_893_499_200_000,
      connectionId,
      domainName: '127.0.0.1',
      eventType: 'CONNECT',
      extendedRequestId: 'x',
      messageDirection: 'IN',
      messageId: null,
      requestId: 'r1',
      requestTime: '01/Jan/2030:12:00:00 +0000',
      requestTimeEpoch: 1_893_499_200_000,
      routeKey: '$connect',
      stage: 'local',
      authorizer: { principalId: 'alice', sub: 'alice', tenantId: 'acme', roles: '' },
    },
  };
}

describe('a function in its sandbox on the local stack', () => {
  let dynamo: Dynalite;
  let sources: EnvironmentSources;
  let endpoints: FunctionEndpoints;
  const loaded: LocalFunction[] = [];

  beforeAll(async () => {
    dynamo = await startDynalite();
    sources = localEnvironmentSources({
      physicalName: (name) => dynamo.tableName(name as Parameters<Dynalite['tableName']>[0]),
      queues: new Map(),
      websocketCallbackUrl: nowhere,
      jwksUrl: `${nowhere}/.well-known/jwks.json`,
      vapidSecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:vapid',
      telegram: { apiUrl: nowhere, tokenSecret: 'telegram-bot-token' },
    });
    endpoints = { dynamodb: dynamo.endpoint, sqs: nowhere, ses: nowhere, scheduler: nowhere, sns: nowhere, secretsmanager: nowhere };
  });

  afterEach(async () => {
    await Promise.all(loaded.splice(0).map((fn) => fn.stop()));
  });

  afterAll(async () => {
    await dynamo.stop();
  });

  async function load(description: FunctionDescription): Promise<LocalFunction> {
    const environment = localFunctionEnvironment(description, { sources, endpoints, overrides: { POWERTOOLS_LOG_LEVEL: 'SILENT' } });
    const fn = await loadFunction(description, { region: 'us-east-1', environment });
    loaded.push(fn);
    return fn;
  }

  it('is told the SDK endpoints, the variables of its own grants, and the overrides', () => {
    // Act
    const environment = localFunctionEnvironment(connect, { sources, endpoints, overrides: { POWERTOOLS_LOG_LEVEL: 'SILENT' } });

    // Assess
    expect(environment).toEqual({
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: nowhere,
      AWS_ENDPOINT_URL_SES: nowhere,
      AWS_ENDPOINT_URL_SESV2: nowhere,
      HERALD_SDK_CONNECTION_TIMEOUT_MS: '20000',
      HERALD_SDK_REQUEST_TIMEOUT_MS: '60000',
      AWS_ENDPOINT_URL_SCHEDULER: nowhere,
      AWS_ENDPOINT_URL_SNS: nowhere,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: nowhere,
      HERALD_PUSH_ALLOW_HTTP_LOOPBACK: 'true',
      HERALD_TABLE_INBOX: dynamo.tableName('inbox'),
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
  });

  it('records a connection in the table its description grants', async () => {
    // Prepare
    const fn = await load(connect);

    // Act
    const result = await fn.invoke(aConnectEvent('conn-granted'));

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    // Open connections live on the user's live item of the inbox table.
    const { Item } = await dynamo.db.send(new GetCommand({ TableName: dynamo.tableName('inbox'), Key: liveKey('acme', 'alice') }));
    expect(Item).toMatchObject({ 'conn:conn-granted': expect.any(String) });
  });

  it('fails at cold start with a ConfigError naming the variable of a table it was not granted', async () => {
    // Prepare
    const fn = await load({ ...connect, access: {} });

    // Act
    const failure = await fn.invoke(aConnectEvent('conn-ungranted')).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(LambdaFunctionError);
    expect(failure).toMatchObject({ errorType: 'ConfigError', message: expect.stringContaining('HERALD_TABLE_INBOX') });
    const { Item } = await dynamo.db.send(new GetCommand({ TableName: dynamo.tableName('inbox'), Key: liveKey('acme', 'alice') }));
    expect(Item?.['conn:conn-ungranted']).toBeUndefined();
  });

  it('loads every function at once, by logical name', async () => {
    // Act
    const started = await startFunctionWorkers([connect, { ...connect, name: 'ws-connect-twin' }], { sources, endpoints, region: 'us-east-1' });
    loaded.push(...Object.values(started));

    // Assess
    expect(Object.fromEntries(Object.entries(started).map(([name, fn]) => [name, fn.functionName]))).toEqual({
      'ws-connect': 'herald-local-ws-connect',
      'ws-connect-twin': 'herald-local-ws-connect-twin',
    });
  });

  it('with provisioned concurrency, rejects naming the function that cannot be loaded', async () => {
    // Prepare
    const broken: FunctionDescription = { ...connect, name: 'broken', entry: 'functions/no-such-function/handler.ts' };

    // Act
    const starting = startFunctionWorkers([connect, broken], { sources, endpoints, region: 'us-east-1', initialization: 'provisioned-concurrency' });

    // Assess
    await expect(starting).rejects.toThrow(/Cannot load function broken/);
  });

  it('on demand, starts with no sandbox, and fails only the invocations of a function that cannot be loaded', async () => {
    // Prepare
    const broken: FunctionDescription = { ...connect, name: 'broken', entry: 'functions/no-such-function/handler.ts' };
    const started = await startFunctionWorkers([connect, broken], { sources, endpoints, region: 'us-east-1' });
    loaded.push(...Object.values(started));

    // Act
    const heaps = await Promise.all(Object.values(started).map((fn) => fn.heap()));
    const failure = await started.broken?.invoke({}).catch((error: unknown) => error);

    // Assess
    expect(heaps).toEqual([undefined, undefined]);
    expect(failure).toBeInstanceOf(LambdaFunctionError);
    expect((failure as Error).message).toContain('no-such-function');
  });
});
