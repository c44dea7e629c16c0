/**
 * The DynamoDB client of a function, made once per cold start on first use. Its endpoint comes
 * from the SDK's own `AWS_ENDPOINT_URL_DYNAMODB`, so the same code talks to AWS or the local stack.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { once, tableNames } from '../../config.ts';
import { withoutSdkLogger } from '../sdk-logger.ts';

/** The low-level client, for adapters that speak DynamoDB's own attribute values. */
export const dynamoClient = once(() => withoutSdkLogger(new DynamoDBClient({})));

/** The document client every store uses: plain JavaScript values, `undefined` attributes dropped. */
export const documentClient = once(() =>
  DynamoDBDocumentClient.from(dynamoClient(), { marshallOptions: { removeUndefinedValues: true } }),
);

/** The tables this function was granted, by logical name: each name read and checked on first use. */
export const tables = once(() => tableNames());
