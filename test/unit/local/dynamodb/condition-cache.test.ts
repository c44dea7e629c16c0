import { createRequire } from 'node:module';
import { ConditionalCheckFailedException, CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheConditionParses } from '../../../../local/dynamodb/condition-cache.ts';
import type { Parser } from '../../../../local/dynamodb/condition-cache.ts';
import { startDynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import type { DynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';

const require = createRequire(import.meta.url);
const dynaliteParser = require('dynalite/db/conditionParser') as Parser;

/** A context as dynalite's `validateExpressions` builds it. */
function contextOf(names: Record<string, string>, values: Record<string, unknown>, isKeyCondition = false): Record<string, unknown> & {
  unusedAttrNames: Record<string, boolean>;
  unusedAttrVals: Record<string, boolean>;
} {
  return {
    attrNames: names,
    attrVals: values,
    unusedAttrNames: Object.fromEntries(Object.keys(names).map((key) => [key, true])),
    unusedAttrVals: Object.fromEntries(Object.keys(values).map((key) => [key, true])),
    isReserved: () => false,
    ...(isKeyCondition ? { isKeyCondition: true } : {}),
  };
}

/** A fresh parser object on dynalite's parse, with the cache, so each test counts its own parses. */
function cachedParser(): { parser: Parser; counts: ReturnType<typeof cacheConditionParses> } {
  const parser: Parser = { parse: dynaliteParser.parse.bind(dynaliteParser) };
  return { parser, counts: cacheConditionParses(parser) };
}

describe("the cache of dynalite's condition parses", () => {
  const expression = '#s = :p AND attribute_not_exists(#l)';

  it('answers the same expression with the same names and values with the tree a fresh parse gives, and marks the same names and values used', () => {
    // Prepare
    const { parser, counts } = cachedParser();
    const fresh = contextOf({ '#s': 'status', '#l': 'lease' }, { ':p': { S: 'pending' }, ':extra': { S: 'x' } });
    const expected = dynaliteParser.parse(expression, { context: fresh });

    // Act
    const first = contextOf({ '#s': 'status', '#l': 'lease' }, { ':p': { S: 'pending' }, ':extra': { S: 'x' } });
    parser.parse(expression, { context: first });
    const second = contextOf({ '#s': 'status', '#l': 'lease' }, { ':p': { S: 'pending' }, ':extra': { S: 'x' } });
    const answered = parser.parse(expression, { context: second });

    // Assess
    expect([counts.hits(), counts.misses()]).toEqual([1, 1]);
    expect(answered).toEqual(expected);
    // `:extra` stays unused, so dynalite still refuses it ("unused in expressions").
    expect(second.unusedAttrNames).toEqual(fresh.unusedAttrNames);
    expect(second.unusedAttrVals).toEqual({ ':extra': true });
  });

  it('parses again for other values or other names, and never caches key conditions or syntax errors', () => {
    // Prepare
    const { parser, counts } = cachedParser();

    // Act
    const pending = parser.parse(expression, { context: contextOf({ '#s': 'status', '#l': 'lease' }, { ':p': { S: 'pending' } }) });
    const sent = parser.parse(expression, { context: contextOf({ '#s': 'status', '#l': 'lease' }, { ':p': { S: 'sent' } }) });
    parser.parse(expression, { context: contextOf({ '#s': 'state', '#l': 'lease' }, { ':p': { S: 'sent' } }) });
    for (let i = 0; i < 2; i += 1) parser.parse('#s = :p', { context: contextOf({ '#s': 'pk' }, { ':p': { S: 'a' } }, true) });
    const syntaxErrors = [0, 1].map(() => {
      try {
        parser.parse('#s = = :p', { context: contextOf({ '#s': 'status' }, { ':p': { S: 'a' } }) });
        return undefined;
      } catch (error) {
        return (error as Error).name;
      }
    });

    // Assess
    expect(JSON.stringify(pending)).toContain('pending');
    expect(JSON.stringify(sent)).toContain('sent');
    expect(JSON.stringify(sent)).not.toContain('pending');
    expect(syntaxErrors).toEqual(['SyntaxError', 'SyntaxError']);
    expect([counts.hits(), counts.misses()]).toEqual([0, 5]);
  });
});

describe('conditions on the endpoint with the cache', () => {
  const region = 'us-east-1';
  const table = 'condition-cache-test';
  let dynamo: DynamoDbEndpoint;
  let client: DynamoDBClient;

  beforeAll(async () => {
    dynamo = await startDynamoDbEndpoint();
    client = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
  });

  afterAll(async () => {
    client.destroy();
    await dynamo.stop();
  });

  it('judges each repeat of a condition on the item as it is then, and refuses an unused value every time', async () => {
    // Prepare
    const put = (extra: boolean): PutItemCommand =>
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: 'once' } },
        ConditionExpression: 'attribute_not_exists(pk) AND NOT #n = :v',
        ExpressionAttributeNames: { '#n': 'name' },
        ExpressionAttributeValues: { ':v': { S: 'x' }, ...(extra ? { ':unused': { S: 'y' } } : {}) },
      });

    // Act
    const refusals = await Promise.all([0, 1].map(() => client.send(put(true)).then(() => undefined, (error: Error) => error.message)));
    await client.send(put(false));
    const repeat = await client.send(put(false)).catch((error: unknown) => error);

    // Assess
    expect(refusals).toEqual([0, 1].map(() => 'Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}'));
    expect(repeat).toBeInstanceOf(ConditionalCheckFailedException);
  });
});
