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
import { GetSendQuotaCommand } from '@aws-sdk/client-ses';
import { createChannels } from '../delivery/channels/index.ts';
import type { ChannelRegistry } from '../delivery/channel.ts';
import type { EngineDeps } from '../delivery/engine.ts';
import type { RateBudgets } from '../domain/rate-budget.ts';
import { logger } from '../observability/logger.ts';
import {
  broadcastConfig,
  engineConfig,
  retryPolicyConfig,
  sendBudgetsConfig,
  broadcastDeliveryQueueConfig,
  broadcastSchedulerConfig,
  deliveryConfig,
  fanoutQueueConfig,
  deliveryDeadLetterQueueUrl,
  deliveryQueueConfig,
  once,
  schedulerConfig,
  selfSendConfig,
  tableNames,
  websocketCallbackUrl,
} from '../config.ts';
import type { Clock } from '../ports.ts';
import { AnsweredErrorsRetryStrategy } from './answered-errors-retry-strategy.ts';
import { ApiGatewaySocketPoster } from './api-gateway-socket-poster.ts';
import { DynamoBroadcastRecipientStore } from './dynamo-broadcast-recipient-store.ts';
import { DynamoBroadcastStore } from './dynamo-broadcast-store.ts';
import { DynamoDeliveryStore } from './dynamo-delivery-store.ts';
import { DynamoLiveStateStore } from './dynamo-live-state-store.ts';
import { SendBudgets } from './dynamo-send-budgets.ts';
import { OneShotSchedule } from './one-shot-schedule.ts';
import { SqsRequeue } from './sqs-requeue.ts';
import { DynamoInboxStore } from './dynamo-inbox-store.ts';
import { DynamoMetricsStore } from './dynamo-metrics-store.ts';
import { DynamoNotificationListing } from './dynamo-notification-listing.ts';
import { DynamoNotificationStore } from './dynamo-notification-store.ts';
import { DynamoNotificationSweeps } from './dynamo-notification-sweeps.ts';
import { DynamoRecipientStore } from './dynamo-recipient-store.ts';
import { EventBridgeBroadcastScheduler } from './eventbridge-broadcast-scheduler.ts';
import { EventBridgeDeliveryScheduler } from './eventbridge-delivery-scheduler.ts';
import { PowertoolsIdempotencyStore } from './powertools-idempotency-store.ts';
import { SesMailer } from './ses-mailer.ts';
import { DynamoSelfSendLimits } from './dynamo-self-send-limits.ts';
import { verificationEmail } from '../domain/contact-verification.ts';
import type { VerificationCodeSender } from '../use-cases/me.ts';
import { SqsBroadcastDeliveryQueue, SqsFanoutQueue } from './sqs-broadcast-queues.ts';
import { SqsDeliveryEnqueuer } from './sqs-delivery-enqueuer.ts';
import { SqsDeliveryQueue } from './sqs-delivery-queue.ts';

export const systemClock: Clock = { now: () => new Date() };

const dynamoClient = once(() => new DynamoDBClient({}));
const documentClient = once(() =>
  DynamoDBDocumentClient.from(dynamoClient(), { marshallOptions: { removeUndefinedValues: true } }),
);
// Queue URLs name their own host; send to the configured endpoint instead, which is the regional
// one on AWS and AWS_ENDPOINT_URL_SQS where that is set.
const sqsClient = once(() => new SQSClient({ useQueueUrlAsEndpoint: false }));

export const metricsStore = once(() => new DynamoMetricsStore(documentClient(), tableNames().metrics));
// Its transitions are counted in the tenants' metrics from the table's stream (functions/metrics).
export const notificationStore = once(() => new DynamoNotificationStore(documentClient(), tableNames().notifications));
export const notificationListing = once(() => new DynamoNotificationListing(documentClient(), tableNames().notifications));
/**
 * The idempotency record is written after the request's work is done: if that write failed, the
 * key would stay "in progress" and a later retry could do the work twice. So its client retries
 * far harder than the SDK's default (10 attempts: at a 20 % fault rate, a 1-in-10-million miss).
 */
const idempotencyClient = once(() => new DynamoDBClient({ maxAttempts: 10 }));
export const idempotencyStore = once(() => new PowertoolsIdempotencyStore(idempotencyClient(), tableNames().idempotency));
export const notificationSweeps = once(() => new DynamoNotificationSweeps(documentClient(), tableNames().notifications));
export const recipientStore = once(
  () => new DynamoRecipientStore(documentClient(), tableNames().recipients, () => tableNames().memberships),
);
export const inboxStore = once(() => new DynamoInboxStore(documentClient(), tableNames().inbox, () => tableNames().recipients));

export const liveStateStore = once(() => new DynamoLiveStateStore(documentClient(), tableNames().inbox));

export const deliveryScheduler = once(
  () => new EventBridgeDeliveryScheduler(new SchedulerClient({}), sqsClient(), schedulerConfig(), deliveryQueueConfig().url),
);
export const deliveryQueue = once(
  () => new SqsDeliveryQueue(sqsClient(), deliveryQueueConfig().url, once(() => deliveryDeadLetterQueueUrl())),
);
export const deliveryEnqueuer = once(() => new SqsDeliveryEnqueuer(sqsClient(), deliveryQueueConfig().url));
// An email must not go twice: the SDK retries only what SES refused, never a timed-out send.
const newSesClient = (): SESClient => new SESClient({ retryStrategy: new AnsweredErrorsRetryStrategy() });
const sesClient = once(newSesClient);
// The mailer makes its own client, and a new one whenever a send threw before leaving (ses-mailer.ts).
export const mailer = once(() => new SesMailer(newSesClient, deliveryConfig().emailFrom));
/** What plain users may send themselves, per user and tenant (the `rate-limits` table). */
export const selfSendLimits = once(() => new DynamoSelfSendLimits(documentClient(), () => tableNames().rateLimits, selfSendConfig()));
/** Verification codes go out in Herald's own words, through the same mailer. */
export const verificationCodes = once(
  (): VerificationCodeSender => ({ send: async (_channel, address, code) => void (await mailer().send({ to: address, ...verificationEmail(code) })) }),
);
export const socketPoster = once(
  () => new ApiGatewaySocketPoster(new ApiGatewayManagementApiClient({ endpoint: websocketCallbackUrl() })),
);

// Broadcasts (issue 5).
export const broadcastStore = once(() => new DynamoBroadcastStore(documentClient(), tableNames().broadcasts));
export const broadcastRecipientStore = once(
  () => new DynamoBroadcastRecipientStore(documentClient(), tableNames().broadcastRecipients, { retentionDays: broadcastConfig().retentionDays }),
);
export const fanoutQueue = once(() => new SqsFanoutQueue(sqsClient(), fanoutQueueConfig().url));
export const broadcastDeliveryQueue = once(() => new SqsBroadcastDeliveryQueue(sqsClient(), broadcastDeliveryQueueConfig().url));
export const broadcastScheduler = once(
  () => new EventBridgeBroadcastScheduler(new SchedulerClient({}), sqsClient(), broadcastSchedulerConfig(), fanoutQueueConfig().url),
);

// The delivery engine (shared/delivery).

/**
 * The providers' send-rate budgets: configured ones, and for SES without one, the account's own
 * maximum send rate (`GetSendQuota`), asked once per cold start. If SES cannot tell, there is no
 * budget: SES's own throttling answers are then the only brake (they never fail a delivery).
 */
async function resolveBudgets(): Promise<RateBudgets> {
  const configured = sendBudgetsConfig();
  if (configured.ses?.perSecond !== undefined) {
    return { ses: { perSecond: configured.ses.perSecond, ...(configured.ses.tenantPerSecond !== undefined ? { tenantPerSecond: configured.ses.tenantPerSecond } : {}) } };
  }
  try {
    // Asked once, at a cold start: it must not hold the first delivery up for long.
    const quota = await sesClient().send(new GetSendQuotaCommand({}), { abortSignal: AbortSignal.timeout(3_000) });
    const perSecond = quota.MaxSendRate;
    if (perSecond === undefined || perSecond <= 0) return {};
    return { ses: { perSecond, ...(configured.ses?.tenantPerSecond !== undefined ? { tenantPerSecond: configured.ses.tenantPerSecond } : {}) } };
  } catch (error) {
    logger.warn('Could not read the SES send quota; e-mail has no send budget but SES throttling', { error: error as Error });
    return {};
  }
}

let budgets: RateBudgets | undefined;
/** Reads the budgets before the first delivery (the engine's claims read them synchronously). */
export async function loadSendBudgets(): Promise<void> {
  budgets ??= await resolveBudgets();
}

export const deliveryStore = once(
  () =>
    new DynamoDeliveryStore(documentClient(), () => tableNames(), {
      sentRetentionDays: deliveryConfig().sentRetentionDays,
      rowRetentionDays: broadcastConfig().retentionDays,
      budgets: new SendBudgets(() => budgets ?? {}),
    }),
);
export const channels = once((): ChannelRegistry => createChannels({ mailer: mailer(), sockets: socketPoster(), live: liveStateStore() }));

/** Everything the engine runs on. */
export const engineDeps = once(
  (): EngineDeps => ({
    store: deliveryStore(),
    channels: channels(),
    live: liveStateStore(),
    sockets: socketPoster(),
    // Made on first use: a function that delivers only notifications is told no broadcasts table.
    broadcasts: {
      addCounts: (...args) => broadcastStore().addCounts(...args),
      finish: (...args) => broadcastStore().finish(...args),
    },
    clock: systemClock,
    settings: { leaseSeconds: deliveryConfig().leaseSeconds, retry: retryPolicyConfig(), holdMs: engineConfig().holdMs },
  }),
);

/** The delivery queue as its consumer puts messages back: delayed, or scheduled beyond 15 minutes. */
export const deliveryRequeue = once(
  () => new SqsRequeue(sqsClient(), deliveryQueueConfig().url, once(() => new OneShotSchedule(new SchedulerClient({}), sqsClient(), schedulerConfig(), deliveryQueueConfig().url))),
);
export const broadcastDeliveryRequeue = once(() => new SqsRequeue(sqsClient(), broadcastDeliveryQueueConfig().url));
export const fanoutRequeue = once(() => new SqsRequeue(sqsClient(), fanoutQueueConfig().url));
