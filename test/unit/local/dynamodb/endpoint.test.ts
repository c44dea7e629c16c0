import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDynaliteStore, dynaliteDb } from '../../../../local/dynamodb/dynalite.ts';
import type { DynaliteStore, TableDescription } from '../../../../local/dynamodb/dynalite.ts';
import { startDynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import type { DynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import { NESTING_MESSAGE, NUMBER_OVERFLOW_MESSAGE } from '../../../../local/dynamodb/limits.ts';
import { createPkTable } from '../../support/local-dynamo.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const table = 'endpoint-test';
const signature = {
  authorization: 'AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc',
  'x-amz-date': '20240101T000000Z',
};

/** One raw awsJson call, as the SDK would send it (signature headers included unless overridden). */
async function call(endpoint: string, operation: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}`, ...signature, ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } };
}

/** `levels - 1` nested maps around a string, as JSON text (JSON.stringify would overflow the stack). */
function nestedText(levels: number): string {
  return `${'{"M":{"n":'.repeat(levels - 1)}{"S":"leaf"}${'}}'.repeat(levels - 1)}`;
}

async function createTable(client: DynamoDBClient): Promise<void> {
  await createPkTable(client, table);
}

describe('the DynamoDB endpoint', () => {
  let dynamo: DynamoDbEndpoint;
  let client: DynamoDBClient;
  const logged: string[] = [];

  beforeAll(async () => {
    dynamo = await startDynamoDbEndpoint({ log: (line) => logged.push(line) });
    client = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials, maxAttempts: 1 });
    await createTable(client);
  });

  afterAll(async () => {
    client.destroy();
    await dynamo.stop();
  });

  describe('wire checks, as dynalite answers them', () => {
    it('answers the health check to a GET', async () => {
      // Act
      const response = await fetch(dynamo.endpoint);

      // Assess
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('healthy: dynamodb.us-east-1.amazonaws.com ');
    });

    it.each([
      ['an unknown operation', 'DescribeEverything', '{}', {}, 'com.amazon.coral.service#UnknownOperationException'],
      ['a body that is not JSON', 'ListTables', '{', {}, 'com.amazon.coral.service#SerializationException'],
      ['an empty body', 'ListTables', '', {}, 'com.amazon.coral.service#SerializationException'],
      ['no signature', 'ListTables', '{}', { authorization: '', 'x-amz-date': '' }, 'com.amazon.coral.service#MissingAuthenticationTokenException'],
      ['a signature without its date', 'ListTables', '{}', { 'x-amz-date': '' }, 'com.amazon.coral.service#IncompleteSignatureException'],
    ])('refuses %s with a 400 of the type dynalite answers', async (_case, operation, body, headers, type) => {
      // Act
      const response = await call(dynamo.endpoint, operation, body, headers);

      // Assess
      expect(response.status).toBe(400);
      expect(response.json.__type).toBe(type);
    });

    it('answers a CORS preflight with the methods and headers asked for, and no operation', async () => {
      // Act
      const response = await fetch(dynamo.endpoint, {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:8080', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-amz-target' },
      });

      // Assess
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-allow-methods')).toBe('POST');
      expect(response.headers.get('access-control-allow-headers')).toBe('x-amz-target');
    });

    it('answers 404 UnknownOperationException to a body that is not JSON by its content type', async () => {
      // Act
      const response = await call(dynamo.endpoint, 'ListTables', '{}', { 'content-type': 'text/plain' });

      // Assess
      expect(response).toEqual({ status: 404, json: { text: '<UnknownOperationException/>\n' } });
    });

    it('answers a validation error with AWS\'s message', async () => {
      // Act
      const response = await call(dynamo.endpoint, 'GetItem', JSON.stringify({ TableName: 'x', Key: {} }));

      // Assess
      expect(response).toEqual({
        status: 400,
        json: {
          __type: 'com.amazon.coral.validate#ValidationException',
          message: "1 validation error detected: Value 'x' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
        },
      });
    });
  });

  describe('what AWS added after dynalite', () => {
    it('puts the current item in a failed condition\'s exception when the write asks for it', async () => {
      // Prepare
      await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'taken' }, v: { S: 'first' } } }));

      // Act
      const asked = await client
        .send(
          new PutItemCommand({
            TableName: table,
            Item: { pk: { S: 'taken' }, v: { S: 'second' } },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        )
        .catch((e: unknown) => e);
      const notAsked = await client
        .send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'taken' } }, ConditionExpression: 'v = :other', ExpressionAttributeValues: { ':other': { S: 'x' } } }))
        .catch((e: unknown) => e);

      // Assess
      expect(asked).toBeInstanceOf(ConditionalCheckFailedException);
      expect((asked as ConditionalCheckFailedException).Item).toEqual({ pk: { S: 'taken' }, v: { S: 'first' } });
      expect(notAsked).toBeInstanceOf(ConditionalCheckFailedException);
      expect((notAsked as ConditionalCheckFailedException).Item).toBeUndefined();
    });

    it('refuses a ReturnValuesOnConditionCheckFailure AWS does not have', async () => {
      // Act
      const response = await call(
        dynamo.endpoint,
        'UpdateItem',
        JSON.stringify({ TableName: table, Key: { pk: { S: 'any' } }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { S: 'x' } }, ReturnValuesOnConditionCheckFailure: 'ALL_NEW' }),
      );

      // Assess
      expect(response).toEqual({
        status: 400,
        json: {
          __type: 'com.amazon.coral.validate#ValidationException',
          message: "1 validation error detected: Value 'ALL_NEW' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]",
        },
      });
    });
  });

  describe('AWS limits dynalite misses', () => {
    it('refuses a request nested 20,000 levels deep with the nesting ValidationException, and keeps serving', async () => {
      // Prepare
      const body = `{"TableName":"${table}","Item":{"pk":{"S":"deep"},"deep":${nestedText(20_000)}}}`;

      // Act
      const refused = await call(dynamo.endpoint, 'PutItem', body);
      const after = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'deep' } } }));

      // Assess
      expect(refused).toEqual({ status: 400, json: { __type: 'com.amazon.coral.validate#ValidationException', message: NESTING_MESSAGE } });
      expect(after.Item).toBeUndefined();
    });

    it('stores a value 32 levels deep and refuses one 33 levels deep', async () => {
      // Act
      const stored = await call(dynamo.endpoint, 'PutItem', `{"TableName":"${table}","Item":{"pk":{"S":"d32"},"deep":${nestedText(32)}}}`);
      const refused = await call(dynamo.endpoint, 'PutItem', `{"TableName":"${table}","Item":{"pk":{"S":"d33"},"deep":${nestedText(33)}}}`);

      // Assess
      expect(stored.status).toBe(200);
      expect(refused).toMatchObject({ status: 400, json: { message: NESTING_MESSAGE } });
    });

    it.each([
      ['more than 38 significant digits', '123456789012345678901234567890123456789', 'Attempting to store more than 38 significant digits in a Number'],
      ['a magnitude above 9.99E+125', '1E126', 'Number overflow. Attempting to store a number with magnitude larger than supported range'],
      ['a magnitude below 1E-130', '1E-131', 'Number underflow. Attempting to store a number with magnitude smaller than supported range'],
    ])('refuses a number of %s with AWS\'s ValidationException', async (_case, number, message) => {
      // Act
      const failure = await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: `n${number}` }, n: { N: number } } })).catch((e: unknown) => e);

      // Assess
      expect(failure).toMatchObject({ name: 'ValidationException', message });
    });

    it.each(['9.9999999999999999999999999999999999999E+125', '1E-130', '-9.9999999999999999999999999999999999999E+125', '12345678901234567890123456789012345678'])(
      'stores the number %s, at the edge of the range',
      async (number) => {
        // Act
        await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: `edge${number}` }, n: { N: number } } }));
        const read = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `edge${number}` } } }));

        // Assess
        expect(Number(read.Item?.n?.N)).toBe(Number(number));
      },
    );

    it('refuses an ADD whose result would overflow and leaves the item as it was', async () => {
      // Prepare
      await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'counter' }, n: { N: '9.9e125' } } }));

      // Act
      const failure = await client
        .send(new UpdateItemCommand({ TableName: table, Key: { pk: { S: 'counter' } }, UpdateExpression: 'ADD n :v', ExpressionAttributeValues: { ':v': { N: '1e125' } } }))
        .catch((e: unknown) => e);
      const read = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'counter' } } }));

      // Assess
      expect(failure).toMatchObject({ name: 'ValidationException', message: NUMBER_OVERFLOW_MESSAGE });
      expect(read.Item?.n).toEqual({ N: '990000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' });
    });

    it('answers a failed condition before an out-of-range result, as the update never runs', async () => {
      // Prepare
      await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'guarded' }, n: { N: '9e125' } } }));

      // Act
      const failure = await client
        .send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: { S: 'guarded' } },
            UpdateExpression: 'ADD n :v',
            ConditionExpression: 'attribute_not_exists(pk)',
            ExpressionAttributeValues: { ':v': { N: '9e125' } },
          }),
        )
        .catch((e: unknown) => e);

      // Assess
      expect(failure).toMatchObject({ name: 'ConditionalCheckFailedException' });
    });
  });
});

describe('the DynamoDB endpoint on failures inside a request', () => {
  let store: DynaliteStore;
  let dynamo: DynamoDbEndpoint;
  let client: DynamoDBClient;
  const logged: string[] = [];

  /**
   * Stores an item dynalite's code trips over, as a corrupt file would hold: by default an
   * attribute that is null, which dynalite cannot size.
   */
  async function storeCorruptItem(pk: string, corrupt: Record<string, unknown> = { broken: null }): Promise<void> {
    const description = await new Promise<TableDescription>((resolve, reject) =>
      store.getTable(table, false, (error, found) => (error || !found ? reject(error ?? new Error('no table')) : resolve(found))),
    );
    const key = { pk: { S: pk } };
    await new Promise<void>((resolve, reject) =>
      store.getItemDb(table).put(dynaliteDb.createKey(key, description), { ...key, ...corrupt }, (error) => (error ? reject(error) : resolve())),
    );
  }

  beforeAll(async () => {
    store = createDynaliteStore({ createTableMs: 0 });
    dynamo = await startDynamoDbEndpoint({ store, log: (line) => logged.push(line) });
    client = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials, maxAttempts: 1 });
    await createTable(client);
  });

  afterEach(() => {
    logged.length = 0;
  });

  afterAll(async () => {
    client.destroy();
    await dynamo.stop();
    await new Promise<void>((resolve) => store.db.close(() => resolve()));
  });

  it('answers 500 InternalServerError when dynalite throws in a callback, logs why, and serves the next call', async () => {
    // Prepare
    await storeCorruptItem('corrupt-read');

    // Act
    const failure = await client
      .send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'corrupt-read' } }, ReturnConsumedCapacity: 'TOTAL' }))
      .catch((e: unknown) => e);
    const next = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'corrupt-read' } } }));

    // Assess
    expect(failure).toMatchObject({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
    expect(logged.join('\n')).toContain('GetItem failed');
    expect(next.Item?.pk).toEqual({ S: 'corrupt-read' });
  });

  it('answers 500 InternalServerError when dynalite throws while streaming a Query, and serves the next call', async () => {
    // Prepare
    await storeCorruptItem('corrupt-query');

    // Act
    const failure = await client
      .send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'corrupt-query' } } }))
      .catch((e: unknown) => e);
    const next = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'corrupt-query' } } }));

    // Assess
    expect(failure).toMatchObject({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
    expect(next.Item?.pk).toEqual({ S: 'corrupt-query' });
  });

  it('answers 500 InternalServerError when dynalite throws as a Query stream ends, and serves the next call', async () => {
    // Prepare: a string attribute holding a number, which dynalite's contains() filter trips over.
    await storeCorruptItem('corrupt-filter', { text: { S: 5 } });

    // Act
    const failure = await client
      .send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: 'contains(#text, :part)',
          ExpressionAttributeNames: { '#text': 'text' },
          ExpressionAttributeValues: { ':pk': { S: 'corrupt-filter' }, ':part': { S: 'x' } },
        }),
      )
      .catch((e: unknown) => e);
    const next = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'corrupt-filter' } } }));

    // Assess
    expect(failure).toMatchObject({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
    expect(next.Item?.pk).toEqual({ S: 'corrupt-filter' });
  });

  it('frees the item lock dynalite held when it threw, so the item can be written again', async () => {
    // Prepare
    await storeCorruptItem('corrupt-write');

    // Act
    const failure = await client
      .send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'corrupt-write' }, v: { S: 'first' } }, ReturnConsumedCapacity: 'TOTAL' }))
      .catch((e: unknown) => e);
    await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'corrupt-write' }, v: { S: 'second' } } }));
    const read = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'corrupt-write' } } }));

    // Assess
    expect(failure).toMatchObject({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
    expect(read.Item).toEqual({ pk: { S: 'corrupt-write' }, v: { S: 'second' } });
  });
});

describe('the DynamoDB endpoint on disk', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'herald-dynamodb-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps tables and items across a restart on the same path', async () => {
    // Prepare
    const first = await startDynamoDbEndpoint({ path: join(dataDir, 'dynamodb') });
    const before = new DynamoDBClient({ endpoint: first.endpoint, region, credentials });
    await createTable(before);
    await before.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'kept' }, v: { S: 'on disk' } } }));
    before.destroy();
    await first.stop();

    // Act
    const second = await startDynamoDbEndpoint({ path: join(dataDir, 'dynamodb') });
    const after = new DynamoDBClient({ endpoint: second.endpoint, region, credentials });
    const read = await after.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'kept' } } })).finally(async () => {
      after.destroy();
      await second.stop();
    });

    // Assess
    expect(read.Item).toEqual({ pk: { S: 'kept' }, v: { S: 'on disk' } });
  });
});
