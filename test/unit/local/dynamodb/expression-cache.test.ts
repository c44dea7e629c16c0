import { createRequire } from 'node:module';
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheExpressionParses, conditionValueReadingSyntax } from '../../../../local/dynamodb/expression-cache.ts';
import type { Parser } from '../../../../local/dynamodb/expression-cache.ts';
import { startDynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import type { DynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import { createPkTable } from '../../support/local-dynamo.ts';

const require = createRequire(import.meta.url);
const dynaliteParser = require('dynalite/db/conditionParser') as Parser;
const dynaliteUpdateParser = require('dynalite/db/updateParser') as Parser;
const dynaliteCompare = (require('dynalite/db') as { compare: unknown }).compare;

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
    compare: dynaliteCompare,
    ...(isKeyCondition ? { isKeyCondition: true } : {}),
  };
}

/** A fresh parser object on dynalite's parse, with the cache, so each test counts its own parses. */
function cachedParser(): { parser: Parser; counts: ReturnType<typeof cacheExpressionParses> } {
  const parser: Parser = { parse: dynaliteParser.parse.bind(dynaliteParser) };
  return { parser, counts: cacheExpressionParses(parser, conditionValueReadingSyntax) };
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

  it('answers other values of the same types from the template, with the tree a fresh parse of those values gives', () => {
    // Prepare
    const { parser, counts } = cachedParser();
    const names = { '#s': 'status', '#l': 'lease', '#t': 'leaseUntil' };
    const text = '#s = :p AND (attribute_not_exists(#l) OR #t < :now) AND NOT #s IN (:a, :b)';
    const valuesOf = (p: string, now: string): Record<string, unknown> => ({ ':p': { S: p }, ':now': { N: now }, ':a': { S: `${p}-a` }, ':b': { S: `${p}-b` } });

    // Act
    parser.parse(text, { context: contextOf(names, valuesOf('pending', '1')) });
    const secondValues = valuesOf('sent', '2');
    const second = contextOf(names, secondValues);
    const answered = parser.parse(text, { context: second });

    // Assess
    expect([counts.hits(), counts.misses()]).toEqual([1, 1]);
    expect(answered).toEqual(dynaliteParser.parse(text, { context: contextOf(names, valuesOf('sent', '2')) }));
    expect(JSON.stringify(answered)).not.toContain('pending');
    // The request's own value objects, as the parser puts them, not copies.
    const found: unknown[] = [];
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      if ((node as { S?: unknown }).S === 'sent-b') found.push(node);
      else Object.values(node).forEach(walk);
    };
    walk(answered);
    expect(found).toHaveLength(1);
    expect(found[0]).toBe(secondValues[':b']);
    expect(second.unusedAttrVals).toEqual({});
  });

  it('parses again for other names or other value types, and never caches key conditions or syntax errors', () => {
    // Prepare
    const { parser, counts } = cachedParser();

    // Act
    parser.parse(expression, { context: contextOf({ '#s': 'status', '#l': 'lease' }, { ':p': { S: 'pending' } }) });
    parser.parse(expression, { context: contextOf({ '#s': 'state', '#l': 'lease' }, { ':p': { S: 'sent' } }) });
    const number = parser.parse(expression, { context: contextOf({ '#s': 'status', '#l': 'lease' }, { ':p': { N: '3' } }) });
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
    expect(JSON.stringify(number)).toContain('{"N":"3"}');
    expect(syntaxErrors).toEqual(['SyntaxError', 'SyntaxError']);
    expect([counts.hits(), counts.misses()]).toEqual([0, 5]);
  });

  it("judges a value's type on every parse: begins_with and size refuse the types they refuse, hit or miss", () => {
    // Prepare
    const { parser } = cachedParser();
    const names = { '#n': 'name' };

    // Act
    const fine = parser.parse('begins_with(#n, :v)', { context: contextOf(names, { ':v': { S: 'a' } }) });
    const refused = parser.parse('begins_with(#n, :v)', { context: contextOf(names, { ':v': { N: '1' } }) });
    const refusedAgain = parser.parse('begins_with(#n, :v)', { context: contextOf(names, { ':v': { N: '2' } }) });
    const size = parser.parse('size(:v) > :n', { context: contextOf({}, { ':v': { BOOL: true }, ':n': { N: '1' } }) });

    // Assess
    expect(typeof fine).toBe('object');
    expect(refused).toBe('Incorrect operand type for operator or function; operator or function: begins_with, operand type: N');
    expect(refusedAgain).toBe(refused);
    expect(size).toBe('Incorrect operand type for operator or function; operator or function: size, operand type: BOOL');
  });

  it('answers BETWEEN and attribute_type, whose checks read the values themselves, only for the very same values', () => {
    // Prepare
    const { parser, counts } = cachedParser();
    const names = { '#n': 'n' };

    // Act
    const ordered = parser.parse('#n BETWEEN :lo AND :hi', { context: contextOf(names, { ':lo': { N: '1' }, ':hi': { N: '2' } }) });
    const reversed = parser.parse('#n BETWEEN :lo AND :hi', { context: contextOf(names, { ':lo': { N: '3' }, ':hi': { N: '2' } }) });
    const knownType = parser.parse('attribute_type(#n, :t)', { context: contextOf(names, { ':t': { S: 'N' } }) });
    const unknownType = parser.parse('attribute_type(#n, :t)', { context: contextOf(names, { ':t': { S: 'X' } }) });
    parser.parse('attribute_type(#n, :t)', { context: contextOf(names, { ':t': { S: 'X' } }) });

    // Assess
    expect(typeof ordered).toBe('object');
    expect(reversed).toMatch(/^The BETWEEN operator requires upper bound to be greater than or equal to lower bound/);
    expect(typeof knownType).toBe('object');
    expect(unknownType).toMatch(/^Invalid attribute type name found; type: X/);
    expect([counts.hits(), counts.misses()]).toEqual([1, 4]);
  });
});

describe("the cache of dynalite's update-expression parses", () => {
  it('answers each request with a tree of its own, holding its own values, so resolving one in place leaves the next untouched', () => {
    // Prepare
    const parser: Parser = { parse: dynaliteUpdateParser.parse.bind(dynaliteUpdateParser) };
    const counts = cacheExpressionParses(parser);
    const text = 'SET #s = :s, #l = :lease ADD #n :one REMOVE #x';
    const names = { '#s': 'status', '#l': 'lease', '#n': 'attempts', '#x': 'heldUntil' };
    const valuesOf = (lease: string): Record<string, unknown> => ({ ':s': { S: 'sending' }, ':lease': { S: lease }, ':one': { N: '1' } });

    // Act
    const first = parser.parse(text, { context: contextOf(names, valuesOf('lease-1')) }) as { sections: [{ val?: unknown }, { val?: unknown }] };
    first.sections[1].val = { S: 'changed in place' };
    const second = parser.parse(text, { context: contextOf(names, valuesOf('lease-2')) });

    // Assess
    expect([counts.hits(), counts.misses()]).toEqual([1, 1]);
    expect(second).toEqual(dynaliteUpdateParser.parse(text, { context: contextOf(names, valuesOf('lease-2')) }));
    expect(JSON.stringify(second)).not.toMatch(/lease-1|changed in place/);
  });

  it("refuses by type on every parse: ADD of a string, list_append of a number, '+' of a string", () => {
    // Prepare
    const parser: Parser = { parse: dynaliteUpdateParser.parse.bind(dynaliteUpdateParser) };
    cacheExpressionParses(parser);
    const parse = (text: string, value: unknown): unknown => parser.parse(text, { context: contextOf({ '#a': 'a' }, { ':v': value }) });

    // Act
    const added = [parse('ADD #a :v', { N: '1' }), parse('ADD #a :v', { S: 'x' }), parse('ADD #a :v', { S: 'y' })];
    const appended = [parse('SET #a = list_append(#a, :v)', { L: [] }), parse('SET #a = list_append(#a, :v)', { N: '1' })];
    const summed = parse('SET #a = #a + :v', { S: '1' });

    // Assess
    expect(typeof added[0]).toBe('object');
    expect(added[1]).toBe('Incorrect operand type for operator or function; operator: ADD, operand type: STRING');
    expect(added[2]).toBe(added[1]);
    expect(typeof appended[0]).toBe('object');
    expect(appended[1]).toBe('Incorrect operand type for operator or function; operator or function: list_append, operand type: N');
    expect(summed).toBe("Incorrect operand type for operator or function; operator or function: +, operand type: S");
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
    await createPkTable(client, table);
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

  it('judges a repeated condition with new values by those values: the template never carries an earlier value', async () => {
    // Prepare
    const put = (expected: string, next: string): PutItemCommand =>
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: 'versioned' }, version: { S: next } },
        ConditionExpression: 'attribute_not_exists(pk) OR #v = :expected',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':expected': { S: expected } },
      });
    await client.send(put('none', 'v1'));

    // Act
    const outcomes = [];
    for (const [expected, next] of [['v1', 'v2'], ['v1', 'v3'], ['v2', 'v3'], ['v2', 'v4'], ['v3', 'v4']] as const) {
      outcomes.push(await client.send(put(expected, next)).then(() => `${expected}->${next}`, (error: Error) => error.name));
    }

    // Assess
    expect(outcomes).toEqual(['v1->v2', 'ConditionalCheckFailedException', 'v2->v3', 'ConditionalCheckFailedException', 'v3->v4']);
  });

  it('stores what each repeated update says, with its own values', async () => {
    // Prepare
    const update = (lease: string, step: string): UpdateItemCommand =>
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: 'updated' } },
        UpdateExpression: 'SET #l = :lease, #h = list_append(if_not_exists(#h, :empty), :entry) ADD #n :step',
        ExpressionAttributeNames: { '#l': 'lease', '#h': 'history', '#n': 'count' },
        ExpressionAttributeValues: { ':lease': { S: lease }, ':empty': { L: [] }, ':entry': { L: [{ S: lease }] }, ':step': { N: step } },
      });

    // Act
    for (const [lease, step] of [['a', '1'], ['b', '10'], ['c', '100']] as const) await client.send(update(lease, step));
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'updated' } }, ConsistentRead: true }));

    // Assess
    expect(Item).toEqual({ pk: { S: 'updated' }, lease: { S: 'c' }, history: { L: [{ S: 'a' }, { S: 'b' }, { S: 'c' }] }, count: { N: '111' } });
  });
});
