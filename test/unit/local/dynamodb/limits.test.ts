import { describe, expect, it } from 'vitest';
import { createDynaliteStore, dynaliteActions, dynaliteValidations } from '../../../../local/dynamodb/dynalite.ts';
import type { Json } from '../../../../local/dynamodb/dynalite.ts';
import {
  arithmeticError,
  NESTING_MESSAGE,
  nestingError,
  NUMBER_OVERFLOW_MESSAGE,
  NUMBER_UNDERFLOW_MESSAGE,
} from '../../../../local/dynamodb/limits.ts';

/** An attribute value `levels` deep: `levels - 1` single-key maps (or lists) around a string. */
function nested(levels: number, container: 'M' | 'L' = 'M'): Json {
  let value: Json = { S: 'leaf' };
  for (let level = 1; level < levels; level += 1) value = container === 'M' ? { M: { n: value } } : { L: [value] };
  return value;
}

/** The JSON text of `levels` nested maps, built without recursion (JSON.stringify would overflow). */
function nestedText(levels: number): string {
  return `${'{"M":{"n":'.repeat(levels - 1)}{"S":"leaf"}${'}}'.repeat(levels - 1)}`;
}

/** An UpdateItem request as dynalite's validations leave it (with its parsed update expression). */
function validatedUpdate(request: Json): Json {
  const { types, custom } = dynaliteActions.UpdateItem.validation;
  const data = dynaliteValidations.checkTypes(request, types);
  dynaliteValidations.checkValidations(data, types, custom, createDynaliteStore({}));
  return data;
}

const key = { pk: { S: 'a' } };

describe('nestingError', () => {
  it('accepts a value 32 levels deep, the top-level attribute being level 1', () => {
    // Prepare
    const request = { TableName: 'items', Item: { pk: { S: 'a' }, deep: nested(32) } };

    // Act
    const error = nestingError(request);

    // Assess
    expect(error).toBeUndefined();
  });

  it.each(['M', 'L'] as const)('refuses a value 33 levels deep (%s) with AWS\'s message', (container) => {
    // Prepare
    const request = { TableName: 'items', Item: { pk: { S: 'a' }, deep: nested(33, container) } };

    // Act
    const error = nestingError(request);

    // Assess
    expect(error).toBe(NESTING_MESSAGE);
  });

  it.each([
    ['an item', (value: Json) => ({ Item: { deep: value } })],
    ['a key', (value: Json) => ({ Key: { deep: value } })],
    ['expression attribute values', (value: Json) => ({ ExpressionAttributeValues: { ':v': value } })],
    ['a start key', (value: Json) => ({ ExclusiveStartKey: { deep: value } })],
    ['a legacy Expected value', (value: Json) => ({ Expected: { deep: { Value: value } } })],
    ['a legacy attribute value list', (value: Json) => ({ QueryFilter: { deep: { AttributeValueList: [value] } } })],
    ['a legacy attribute update', (value: Json) => ({ AttributeUpdates: { deep: { Action: 'PUT', Value: value } } })],
    ['a batch write', (value: Json) => ({ RequestItems: { items: [{ PutRequest: { Item: { deep: value } } }] } })],
    ['a batch get', (value: Json) => ({ RequestItems: { items: { Keys: [{ deep: value }] } } })],
    ['a transaction\'s put', (value: Json) => ({ TransactItems: [{ Put: { TableName: 'items', Item: { deep: value } } }] })],
    ['a transaction\'s update values', (value: Json) => ({ TransactItems: [{ Update: { ExpressionAttributeValues: { ':v': value } } }] })],
  ])('finds the values of %s', (_place, request) => {
    // Prepare
    const tooDeep = request(nested(33));
    const deepEnough = request(nested(32));

    // Act
    const refused = nestingError(tooDeep);
    const accepted = nestingError(deepEnough);

    // Assess
    expect(refused).toBe(NESTING_MESSAGE);
    expect(accepted).toBeUndefined();
  });

  it('walks a request nested 20,000 levels deep without recursing', () => {
    // Prepare
    const request = JSON.parse(`{"TableName":"items","Item":{"pk":{"S":"a"},"deep":${nestedText(20_000)}}}`) as Json;

    // Act
    const error = nestingError(request);

    // Assess
    expect(error).toBe(NESTING_MESSAGE);
  });

  it('leaves deep structures outside attribute values to the type checks', () => {
    // Prepare
    const request = JSON.parse(`{"TableName":"items","Unknown":${'['.repeat(20_000)}${']'.repeat(20_000)}}`) as Json;

    // Act
    const error = nestingError(request);

    // Assess
    expect(error).toBeUndefined();
  });
});

describe('arithmeticError', () => {
  it.each([
    ['an ADD past the largest number', 'ADD n :v', { n: { N: '9.9e125' } }, { ':v': { N: '1e125' } }, NUMBER_OVERFLOW_MESSAGE],
    ['a sum past the largest number', 'SET n = n + :v', { n: { N: '9e125' } }, { ':v': { N: '9e125' } }, NUMBER_OVERFLOW_MESSAGE],
    ['a difference past the smallest number', 'SET n = :a - :b', {}, { ':a': { N: '-9e125' }, ':b': { N: '9e125' } }, NUMBER_OVERFLOW_MESSAGE],
    ['a sum of more than 38 digits', 'SET n = :a + :b', {}, { ':a': { N: '1e50' }, ':b': { N: '1' } }, NUMBER_OVERFLOW_MESSAGE],
    ['a difference closer to zero than 1E-130', 'SET n = :a - :b', {}, { ':a': { N: '1.1e-130' }, ':b': { N: '1e-130' } }, NUMBER_UNDERFLOW_MESSAGE],
    ['a sum through if_not_exists', 'SET n = if_not_exists(n, :a) + :b', {}, { ':a': { N: '9e125' }, ':b': { N: '9e125' } }, NUMBER_OVERFLOW_MESSAGE],
  ])('refuses %s', (_case, expression, item, values, message) => {
    // Prepare
    const update = validatedUpdate({ TableName: 'items', Key: key, UpdateExpression: expression, ExpressionAttributeValues: values });

    // Act
    const error = arithmeticError(update, { ...key, ...item });

    // Assess
    expect(error).toBe(message);
  });

  it.each([
    ['a counter well within range', 'ADD n :v', { n: { N: '41' } }, { ':v': { N: '1' } }],
    ['an ADD to a missing counter', 'ADD n :v', {}, { ':v': { N: '9.9e125' } }],
    ['a sum up to the largest number', 'SET n = n + :v', { n: { N: '9e125' } }, { ':v': { N: '9e124' } }],
    ['a sum back to zero', 'SET n = :a + :b', {}, { ':a': { N: '-1e125' }, ':b': { N: '1e125' } }],
    ['a sum of 38 digits', 'SET n = :a + :b', {}, { ':a': { N: '1e37' }, ':b': { N: '1' } }],
    ['an operand that is not a number (dynalite answers it)', 'SET n = s + :v', { s: { S: 'text' } }, { ':v': { N: '1' } }],
  ])('accepts %s', (_case, expression, item, values) => {
    // Prepare
    const update = validatedUpdate({ TableName: 'items', Key: key, UpdateExpression: expression, ExpressionAttributeValues: values });

    // Act
    const error = arithmeticError(update, { ...key, ...item });

    // Assess
    expect(error).toBeUndefined();
  });

  it('refuses a legacy AttributeUpdates ADD past the largest number, and accepts one on a missing attribute', () => {
    // Prepare
    const update = validatedUpdate({ TableName: 'items', Key: key, AttributeUpdates: { n: { Action: 'ADD', Value: { N: '9e125' } } } });

    // Act
    const onExisting = arithmeticError(update, { ...key, n: { N: '9e125' } });
    const onMissing = arithmeticError(update, undefined);

    // Assess
    expect(onExisting).toBe(NUMBER_OVERFLOW_MESSAGE);
    expect(onMissing).toBeUndefined();
  });
});
