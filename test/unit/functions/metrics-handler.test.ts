/**
 * The metrics function as the DynamoDB stream mapping invokes it, on the local DynamoDB (its
 * faultable endpoint, as the function calls it): a batch of Lambda's stream records in, one ADD
 * per tenant-hour into the metrics table, and the first record not counted as the batch item
 * failure when an ADD fails.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { aLambdaContext } from '../fakes/lambda.ts';
import { aNotification } from '../fakes/fixtures.ts';
import { startLocalAws } from '../support/local-aws.ts';

// Config and clients are read once per process: set the environment before the handler loads.
const aws = await startLocalAws();
Object.assign(process.env, aws.env);
const { handler } = await import('../../../functions/metrics/handler.ts');

const streamArn = 'arn:aws:dynamodb:eu-west-1:111122223333:table/herald-test-notifications/stream/2030-01-01T00:00:00.000';
/** 2030-01-01T12:10:00Z, in epoch seconds. */
const tenPastNoon = 1893499800;

afterAll(async () => {
  await aws.stop();
});

beforeEach(() => {
  aws.calls.reset();
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

/** The metrics items of `tenantId`, whichever shard they are in. */
async function metricsOf(tenantId: string): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await aws.dynamo.documentClient.send(new ScanCommand({ TableName: 'metrics' }));
  return Items.filter((item) => String(item.pk).startsWith(`${tenantId}#`));
}

describe('the metrics handler', () => {
  it('adds each tenant\'s counts of the batch to its hour with one ADD', async () => {
    // Prepare
    const event: DynamoDBStreamEvent = { Records: [aCreation('acme'), aCreation('acme'), aCreation('globex')] };

    // Act
    const response = await handler(event, aLambdaContext('herald-test-metrics'));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(aws.calls.calls('dynamodb')).toEqual(['UpdateItem', 'UpdateItem']);
    expect(await metricsOf('acme')).toEqual([
      { pk: expect.stringMatching(/^acme#[0-3]$/), hour: '2030-01-01T12', 'notifications.pending': 2, expiresAt: expect.any(Number) },
    ]);
    expect(await metricsOf('globex')).toEqual([expect.objectContaining({ hour: '2030-01-01T12', 'notifications.pending': 1 })]);
  });

  it('reports the first record it could not count, so that Lambda retries from there', async () => {
    // Prepare
    aws.calls.fail('dynamodb', 'UpdateItem', { statusCode: 400, code: 'ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' });
    const records = [aCreation('initech'), aCreation('initech')];

    // Act
    const response = await handler({ Records: records }, aLambdaContext('herald-test-metrics'));

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }] });
    expect(await metricsOf('initech')).toEqual([]);
  });

  it('fails the whole batch on an event that is no DynamoDB stream event', async () => {
    // Prepare
    const event = { Records: [{ eventSource: 'aws:sqs', body: '{}' }] } as unknown as DynamoDBStreamEvent;

    // Act
    const outcome = handler(event, aLambdaContext('herald-test-metrics'));

    // Assess
    await expect(outcome).rejects.toThrow();
    expect(aws.calls.calls('dynamodb')).toEqual([]);
  });
});
