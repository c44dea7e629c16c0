/**
 * The metrics function as the DynamoDB stream mapping invokes it, through the AWS adapter (mocked
 * SDK): a batch of Lambda's stream records in, one ADD per tenant-hour out, and the first record
 * not counted as the batch item failure when an ADD fails.
 */
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { aLambdaContext } from '../fakes/lambda.ts';
import { aNotification, awsError } from '../fakes/fixtures.ts';

Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  HERALD_TABLE_METRICS: 'test-metrics',
});
const { handler } = await import('../../../functions/metrics/handler.ts');

const dbMock = mockClient(DynamoDBDocumentClient);
const streamArn = 'arn:aws:dynamodb:eu-west-1:111122223333:table/herald-test-notifications/stream/2030-01-01T00:00:00.000';
/** 2030-01-01T12:10:00Z, in epoch seconds. */
const tenPastNoon = 1893499800;

beforeEach(() => {
  dbMock.reset();
});

let sequence = 100000000000000000000n;
/** The stream record of a notification of `tenantId` created (no item before). */
function aCreation(tenantId: string): DynamoDBRecord {
  const item = { ...aNotification({ tenantId }), pk: `${tenantId}#ntf` };
  return {
    eventID: `event-${sequence}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    dynamodb: {
      ApproximateCreationDateTime: tenPastNoon,
      Keys: { pk: { S: item.pk } },
      NewImage: marshall(item, { removeUndefinedValues: true }) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      SequenceNumber: String(++sequence),
      SizeBytes: 300,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: streamArn,
  };
}

describe('the metrics handler', () => {
  it('adds each tenant\'s counts of the batch to its hour with one ADD', async () => {
    // Prepare
    dbMock.on(UpdateCommand).resolves({});
    const event: DynamoDBStreamEvent = { Records: [aCreation('acme'), aCreation('acme'), aCreation('globex')] };

    // Act
    const response = await handler(event, aLambdaContext('herald-test-metrics'));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dbMock).toHaveReceivedCommandTimes(UpdateCommand, 2);
    expect(dbMock).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'test-metrics',
      Key: { pk: expect.stringMatching(/^acme#[0-3]$/), hour: '2030-01-01T12' },
      UpdateExpression: 'ADD #m0 :m0 SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
      ExpressionAttributeNames: { '#m0': 'notifications.pending' },
      ExpressionAttributeValues: expect.objectContaining({ ':m0': 2 }),
    });
  });

  it('reports the first record it could not count, so that Lambda retries from there', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(awsError('ProvisionedThroughputExceededException', 400));
    const records = [aCreation('acme'), aCreation('acme')];

    // Act
    const response = await handler({ Records: records }, aLambdaContext('herald-test-metrics'));

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }] });
  });

  it('fails the whole batch on an event that is no DynamoDB stream event', async () => {
    // Prepare
    const event = { Records: [{ eventSource: 'aws:sqs', body: '{}' }] } as unknown as DynamoDBStreamEvent;

    // Act
    const outcome = handler(event, aLambdaContext('herald-test-metrics'));

    // Assess
    await expect(outcome).rejects.toThrow();
    expect(dbMock).toHaveReceivedCommandTimes(UpdateCommand, 0);
  });
});
