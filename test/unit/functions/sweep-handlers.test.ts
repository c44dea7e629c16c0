/**
 * The two sweep handlers as EventBridge rules invoke them, through the AWS adapters (mocked SDK):
 * a Scheduled Event in, the sweep's result out.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { aLambdaContext } from '../fakes/lambda.ts';

Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  HERALD_TABLE_NOTIFICATIONS: 'test-notifications',
  HERALD_TABLE_BROADCASTS: 'test-broadcasts',
  HERALD_QUEUE_FANOUT_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/test-fanout',
  HERALD_QUEUE_FANOUT_ARN: 'arn:aws:sqs:eu-west-1:111122223333:test-fanout',
  HERALD_QUEUE_DELIVERY_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/test-delivery',
  HERALD_QUEUE_DELIVERY_ARN: 'arn:aws:sqs:eu-west-1:111122223333:test-delivery',
  HERALD_STUCK_AFTER_SECONDS: '300',
  HERALD_CANCELLED_RETENTION_DAYS: '30',
});
const stuckRetry = (await import('../../../functions/stuck-retry/handler.ts')).handler;
const cleanup = (await import('../../../functions/cleanup/handler.ts')).handler;

const dbMock = mockClient(DynamoDBDocumentClient);
const sqsMock = mockClient(SQSClient);

function aScheduledEvent(rule: string): ScheduledEvent<Record<string, never>> {
  return {
    version: '0',
    id: 'c5f2b2a0-0000-4000-8000-000000000001',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '111122223333',
    time: '2030-01-01T12:00:00Z',
    region: 'eu-west-1',
    resources: [`arn:aws:events:eu-west-1:111122223333:rule/herald-test-${rule}`],
    detail: {},
  };
}

beforeEach(() => {
  dbMock.reset();
  sqsMock.reset();
});

describe('the stuck-retry handler', () => {
  it('queries every shard of the due index and puts what it finds back on the delivery queue', async () => {
    // Prepare: one stuck notification in shard 3, nothing elsewhere
    dbMock.on(QueryCommand).resolves({ Items: [] });
    dbMock
      .on(QueryCommand, { TableName: 'test-notifications', ExpressionAttributeValues: { ':shard': 'due#3' } }, false)
      .resolves({ Items: [{ tenantId: 'acme', id: 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0', status: 'pending' }] });
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }], Failed: [] });

    // Act
    const result = await stuckRetry(aScheduledEvent('stuck-retry'), aLambdaContext('herald-test-stuck-retry'));

    // Assess
    expect(result).toEqual({ retried: 1, broadcastStarts: 0, timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const shards = dbMock
      .commandCalls(QueryCommand)
      .filter((c) => c.args[0].input.TableName === 'test-notifications')
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':shard']);
    expect(new Set(shards)).toEqual(new Set(Array.from({ length: 16 }, (_, i) => `due#${i}`)));
    expect(dbMock).toHaveReceivedCommandWith(QueryCommand, { TableName: 'test-notifications', IndexName: 'due' });
    expect(sqsMock).toHaveReceivedCommandExactlyOnceWith(SendMessageBatchCommand, {
      QueueUrl: process.env.HERALD_QUEUE_DELIVERY_URL,
      Entries: [{ Id: '0', MessageBody: '{"tenantId":"acme","notificationId":"ntf_01JABCDEFGHJKMNPQRSTVWXYZ0"}' }],
    });
  });

  it('queries every shard of the broadcasts\' due index and sends each overdue broadcast a start on the fan-out queue', async () => {
    // Prepare: one overdue scheduled broadcast in shard 1, nothing else anywhere
    dbMock.on(QueryCommand).resolves({ Items: [] });
    dbMock
      .on(QueryCommand, { TableName: 'test-broadcasts', ExpressionAttributeValues: { ':shard': 'due#1' } }, false)
      .resolves({ Items: [{ tenantId: 'acme', id: 'brd_01JABCDEFGHJKMNPQRSTVWXYZ0', dueAt: '2030-01-01T11:00:00.000Z' }] });
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }], Failed: [] });

    // Act
    const result = await stuckRetry(aScheduledEvent('stuck-retry'), aLambdaContext('herald-test-stuck-retry'));

    // Assess: one Query per shard when nothing more is due, one SendMessageBatch for the start
    expect(result).toEqual({ retried: 0, broadcastStarts: 1, timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const broadcastQueries = dbMock.commandCalls(QueryCommand).filter((c) => c.args[0].input.TableName === 'test-broadcasts');
    expect(broadcastQueries.map((c) => c.args[0].input.ExpressionAttributeValues?.[':shard']).sort()).toEqual(['due#0', 'due#1', 'due#2', 'due#3']);
    expect(dbMock).toHaveReceivedCommandWith(QueryCommand, { TableName: 'test-broadcasts', IndexName: 'due', FilterExpression: '#status = :scheduled' });
    expect(sqsMock).toHaveReceivedCommandExactlyOnceWith(SendMessageBatchCommand, {
      QueueUrl: process.env.HERALD_QUEUE_FANOUT_URL,
      Entries: [{ Id: '0', MessageBody: '{"kind":"start","tenantId":"acme","broadcastId":"brd_01JABCDEFGHJKMNPQRSTVWXYZ0"}' }],
    });
  });

  it('refuses an event that is not a scheduled event', async () => {
    // Act + Assess
    await expect(stuckRetry({ hello: 'world' }, aLambdaContext('herald-test-stuck-retry'))).rejects.toThrow();
    expect(dbMock).not.toHaveReceivedAnyCommand();
  });
});

describe('the cleanup handler', () => {
  it('deletes the old cancelled notifications of the cancelled index and answers in the agreed keys', async () => {
    // Prepare
    dbMock.on(QueryCommand).resolves({ Items: [] });
    dbMock
      .on(QueryCommand, { ExpressionAttributeValues: { ':shard': 'cancelled#5' } }, false)
      .resolves({ Items: [{ tenantId: 'acme', id: 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0', cancelledAt: '2020-01-01T00:00:00.000Z' }] });
    dbMock.on(DeleteCommand).resolves({});

    // Act
    const result = await cleanup(aScheduledEvent('cleanup'), aLambdaContext('herald-test-cleanup'));

    // Assess
    expect(Object.keys(result as object).sort()).toEqual(['before_cutoff', 'cutoff_date', 'deleted', 'timestamp']);
    expect(result).toMatchObject({ deleted: 1, before_cutoff: 1 });
    const { cutoff_date: cutoff, timestamp } = result as { cutoff_date: string; timestamp: string };
    expect(Date.parse(timestamp) - Date.parse(cutoff)).toBe(30 * 86_400_000);
    expect(dbMock).toHaveReceivedCommandWith(QueryCommand, { IndexName: 'cancelled' });
    expect(dbMock).toHaveReceivedCommandExactlyOnceWith(DeleteCommand, {
      TableName: 'test-notifications',
      Key: { pk: 'acme#ntf_01JABCDEFGHJKMNPQRSTVWXYZ0' },
      ConditionExpression: '#status = :cancelled',
    });
  });
});
