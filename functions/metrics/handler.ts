/**
 * The metrics aggregator, triggered by the notifications table's stream: counts each batch of
 * writes into the tenants' hourly metrics, one `ADD` per tenant-hour, so that no delivery and no
 * API request spends a call on metrics. Answers the first record it could not count as a batch
 * item failure (`ReportBatchItemFailures`): Lambda reads the stream again from there.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { metricsStore } from '../../shared/adapters/dependencies/metrics.ts';
import { changeRecordOf, dynamoDbStreamEventSchema } from '../../shared/adapters/notification-stream.ts';
import { logger } from '../../shared/observability/logger.ts';
import { countTransitions } from '../../shared/use-cases/count-transitions.ts';

async function countBatch(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const { Records } = dynamoDbStreamEventSchema.parse(event);
  const { firstNotCounted } = await countTransitions({ metrics: metricsStore() }, Records.map(changeRecordOf));
  return { batchItemFailures: firstNotCounted === undefined ? [] : [{ itemIdentifier: firstNotCounted }] };
}

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(countBatch);
