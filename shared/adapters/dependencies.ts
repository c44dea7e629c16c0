/**
 * The composition root of the functions: AWS SDK clients and adapters, created once per cold
 * start on first use. Endpoints come from the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables,
 * so the same code talks to AWS or to the local stack.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SESClient } from '@aws-sdk/client-ses';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { deliveryConfig, deliveryQueueConfig, once, schedulerConfig, tableNames, websocketCallbackUrl } from '../config.ts';
import type { Clock } from '../ports.ts';
import { ApiGatewaySocketPoster } from './api-gateway-socket-poster.ts';
import { DynamoConnectionStore } from './dynamo-connection-store.ts';
import { DynamoInboxStore } from './dynamo-inbox-store.ts';
import { DynamoNotificationStore } from './dynamo-notification-store.ts';
import { DynamoRecipientStore } from './dynamo-recipient-store.ts';
import { EventBridgeDeliveryScheduler } from './eventbridge-delivery-scheduler.ts';
import { SesMailer } from './ses-mailer.ts';
import { SqsDeliveryQueue } from './sqs-delivery-queue.ts';

export const systemClock: Clock = { now: () => new Date() };

const documentClient = once(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
);
// Queue URLs name their own host; send to the configured endpoint instead, which is the regional
// one on AWS and AWS_ENDPOINT_URL_SQS where that is set.
const sqsClient = once(() => new SQSClient({ useQueueUrlAsEndpoint: false }));

export const notificationStore = once(() => new DynamoNotificationStore(documentClient(), tableNames().notifications));
export const recipientStore = once(() => new DynamoRecipientStore(documentClient(), tableNames().recipients));
export const inboxStore = once(() => new DynamoInboxStore(documentClient(), tableNames().inbox));
export const connectionStore = once(() => new DynamoConnectionStore(documentClient(), tableNames().connections));

export const deliveryScheduler = once(
  () => new EventBridgeDeliveryScheduler(new SchedulerClient({}), sqsClient(), schedulerConfig(), deliveryQueueConfig().url),
);
export const deliveryQueue = once(() => new SqsDeliveryQueue(sqsClient(), deliveryQueueConfig().url));
export const mailer = once(() => new SesMailer(new SESClient({}), deliveryConfig().emailFrom));
export const socketPoster = once(
  () => new ApiGatewaySocketPoster(new ApiGatewayManagementApiClient({ endpoint: websocketCallbackUrl() })),
);
