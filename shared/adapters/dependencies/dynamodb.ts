/**
 * The DynamoDB client of a function, made once per cold start on first use. Its endpoint comes
 * from the SDK's own `AWS_ENDPOINT_URL_DYNAMODB`, so the same code talks to AWS or the local stack.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { once, tableNames } from '../../config.ts';
import { sdkClientOptions } from '../sdk-clients.ts';
import { withoutSdkLogger } from '../sdk-logger.ts';

/**
 * The low-level client, for adapters that speak DynamoDB's own attribute values; a plain write
 * that meets an ongoing transaction (`TransactionConflictException`) is retried (sdk-clients.ts).
 */
export const dynamoClient = /* @__PURE__ */ once(() => withoutSdkLogger(new DynamoDBClient(sdkClientOptions())));

/** The document client every store uses: plain JavaScript values, `undefined` attributes dropped. */
export const documentClient = /* @__PURE__ */ once(() =>
  DynamoDBDocumentClient.from(dynamoClient(), { marshallOptions: { removeUndefinedValues: true } }),
);

/** The tables this function was granted, by logical name: each name read and checked on first use. */
export const tables = /* @__PURE__ */ once(() => tableNames());
