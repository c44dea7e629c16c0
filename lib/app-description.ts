/**
 * The one description of Herald: tables, queues, functions and their triggers, routes and rules.
 *
 * Both the CDK stacks (lib/stacks) and the local stack (local/) read this file, so the AWS
 * deployment and `npm start` cannot drift apart; test/infra/app-description.test.ts proves it.
 * It is plain typed data: no CDK or AWS SDK import may appear here.
 */

/** A DynamoDB key attribute (Herald keys are strings or numbers). */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

/** What a table's stream record carries of the item: its key only, the item after, before, or both. */
export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

/** A global secondary index: its keys, and what it projects. */
export interface IndexDescription {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /**
   * What the index holds of each item. `ALL`: every attribute, so a query answers from the index
   * alone, but any change to the item writes the index again. `KEYS_ONLY`: the table's and the
   * index's keys, so a reader fetches the items it lists (BatchGetItem), and a write that keeps
   * the index's keys writes nothing to it (DynamoDB writes an index only when a key or projected
   * attribute changes). `INCLUDE`: the keys and `projectedAttributes`, which a query can filter on;
   * attributes that never change once written cost no index write either. DynamoDB cannot change
   * an existing index's projection: see docs/deploying.md, "Upgrading".
   * @default 'ALL'
   */
  readonly projection?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  /** With `INCLUDE`: the attributes besides the keys the index holds. */
  readonly projectedAttributes?: readonly string[];
}

/**
 * The index's `Projection`, as CreateTable takes it: `{ ProjectionType, NonKeyAttributes }`.
 * Throws when `INCLUDE` names no attributes, or another projection names some.
 */
export function projectionOf(index: IndexDescription): { ProjectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] } {
  const type = index.projection ?? 'ALL';
  const attributes = index.projectedAttributes ?? [];
  if ((type === 'INCLUDE') !== attributes.length > 0) throw new Error(`Index ${index.name}: projectedAttributes go with INCLUDE, and INCLUDE needs them`);
  return type === 'INCLUDE' ? { ProjectionType: type, NonKeyAttributes: [...attributes] } : { ProjectionType: type };
}

export interface TableDescription {
  /** Logical name, also the table-name suffix (`herald-<stage>-<name>` on AWS). */
  readonly name: TableName;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly indexes: readonly IndexDescription[];
  /** Attribute holding an epoch-seconds expiry; absent on items that must never expire. */
  readonly ttlAttribute?: string;
  /**
   * The table's DynamoDB stream and what its records carry; absent for none. Functions read it
   * through a `stream` trigger (its records are kept 24 hours).
   */
  readonly stream?: StreamViewType;
  /** Environment variable through which functions learn the table's physical name. */
  readonly envVar: string;
}

export interface QueueDescription {
  readonly name: QueueName;
  /** Visibility timeout: at least six times the consuming function's timeout, as AWS advises. */
  readonly visibilityTimeoutSeconds: number;
  readonly retentionDays: number;
  /** The dead-letter queue this queue moves messages to after `maxReceiveCount` receives. */
  readonly deadLetter?: { readonly queue: QueueName; readonly maxReceiveCount: number };
  /** Environment variables through which functions learn the queue's URL and ARN. */
  readonly urlEnvVar: string;
  readonly arnEnvVar: string;
  /**
   * Set on a dead-letter queue: where `npm run redrive` moves its messages back to, and when its
   * alarms fire (any message visible; the oldest older than `oldestMessageAlarmSeconds`). Without
   * `redriveTo` its messages cannot be moved back: those of a stream trigger's `onFailure` only
   * point at stream records (`DDBStreamBatchInfo`), which the stream drops after 24 hours.
   */
  readonly deadLetters?: { readonly redriveTo?: QueueName; readonly oldestMessageAlarmSeconds: number };
  /**
   * Set on the queue the e-mail feedback arrives on: SES publishes the bounces and complaints of
   * Herald's configuration set to EventBridge, and a rule puts them here (locally, the SES emulator
   * does, for the mailbox simulator's addresses).
   */
  readonly receivesEmailFeedback?: boolean;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** An HTTP API route; `path` uses API Gateway's `{param}` syntax. */
export interface HttpRoute {
  readonly method: HttpMethod;
  readonly path: string;
  /** `jwt`: the gateway's JWT authorizer must accept the bearer token; `none`: public. */
  readonly auth: 'jwt' | 'none';
}

export type Trigger =
  | { readonly kind: 'http'; readonly routes: readonly HttpRoute[] }
  | { readonly kind: 'websocket'; readonly route: string }
  | { readonly kind: 'websocket-authorizer'; readonly identitySource: string }
  | {
      readonly kind: 'queue';
      readonly queue: QueueName;
      readonly batchSize: number;
      readonly maxBatchingWindowSeconds: number;
      /** Always true in Herald: handlers return `batchItemFailures`. */
      readonly reportBatchItemFailures: true;
      /**
       * The most batches handled at once (the mapping's `ScalingConfig.MaximumConcurrency`, 2 to
       * 1,000): with the providers' send budgets, what keeps Herald within a provider's rate.
       * Locally, the number of pollers.
       */
      readonly maximumConcurrency: number;
    }
  | {
      /** A DynamoDB stream event-source mapping ("Lambda parameters for Amazon DynamoDB event source mappings"). */
      readonly kind: 'stream';
      /** A table that declares a `stream`. */
      readonly table: TableName;
      /** Records per invocation, 1 to 10,000. */
      readonly batchSize: number;
      /** How long Lambda gathers records before it invokes, 0 to 300. */
      readonly maxBatchingWindowSeconds: number;
      /** Where a new mapping starts reading: the oldest record kept, or only those written from then on. */
      readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
      /** Always true in Herald: handlers return the first record they could not handle in `batchItemFailures`. */
      readonly reportBatchItemFailures: true;
      /** A batch whose invocation failed is split in two and retried (which spends no retry). */
      readonly bisectBatchOnFunctionError: boolean;
      /** Retries of a failing batch before its records are given up (0 to 10,000). */
      readonly maximumRetryAttempts: number;
      /** The queue that receives a description of each batch given up (`DestinationConfig.OnFailure`). */
      readonly onFailure: QueueName;
    }
  | { readonly kind: 'rule'; readonly ruleName: string; readonly schedule: string };

/** What a function may touch; the CDK grants exactly this and sets the matching variables. */
export interface FunctionAccess {
  readonly tables?: Readonly<Partial<Record<TableName, 'read' | 'readWrite'>>>;
  /** Queues the function sends to (or changes visibility on). */
  readonly sendsTo?: readonly QueueName[];
  /** Creates and deletes one-shot schedules in the Herald schedule group. */
  readonly schedules?: boolean;
  /**
   * Creates and deletes the one schedule of each broadcast, targeting the fan-out queue (and
   * sends a broadcast due now straight to that queue).
   */
  readonly schedulesBroadcasts?: boolean;
  /** Sends email through SES. */
  readonly sendsEmail?: boolean;
  /** Sends SMS through SNS (`Publish` to a phone number, after `CheckIfPhoneNumberIsOptedOut`). */
  readonly sendsSms?: boolean;
  /**
   * Push: `deliver` publishes to the SNS platform endpoints of devices (and deletes disabled ones)
   * and signs Web Push; `register` creates and deletes those endpoints. Both read the stage's VAPID
   * secret.
   */
  readonly pushes?: 'deliver' | 'register' | 'both';
  /** Posts to WebSocket connections through the API Gateway Management API. */
  readonly postsToConnections?: boolean;
  /**
   * Reads the depth of every dead-letter queue (`deadLetters`) and moves the messages of those
   * with a `redriveTo` back there: receive and delete on each such DLQ, send to its destination.
   */
  readonly redrivesDeadLetters?: boolean;
  /** Verifies JWTs itself (the WebSocket authorizer). */
  readonly verifiesTokens?: boolean;
  /** Reads the Telegram bot's token (its Secrets Manager secret) and calls the Bot API. */
  readonly sendsTelegram?: boolean;
  /** POSTs signed webhooks to recipients' URLs, through the SSRF guard (no IAM: the stage sets the guard). */
  readonly postsWebhooks?: boolean;
  /**
   * Tuning it reads (no IAM): `retry`, the delivery retry policy; `sweeps`, the sweeps' bounds;
   * `delivery`, the engine's hold; `sendBudgets`, the providers' send-rate budgets (what sends
   * through SES or SNS SMS, by the engine or not, must hold to); `selfSend`, what plain users may
   * send themselves per hour; `claims`, which token claims name the tenant and roles;
   * `requestQuota`, the requests a tenant may make per second.
   */
  readonly settings?: readonly ('retry' | 'sweeps' | 'delivery' | 'sendBudgets' | 'selfSend' | 'claims' | 'requestQuota')[];
}

export interface FunctionDescription {
  readonly name: string;
  /** Path of the handler module, relative to the repository root. */
  readonly entry: string;
  /** Exported handler function name. */
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /**
   * Concurrent executions set aside for this function, and the most it may run at once (Lambda's
   * reserved concurrency): capping the API keeps a flood of requests from taking the concurrency
   * the delivering functions need, and reserving theirs guarantees it. The account keeps at least
   * 100 unreserved. Absent: the account's unreserved pool. The local stack ignores it.
   */
  readonly reservedConcurrency?: number;
  readonly triggers: readonly Trigger[];
  readonly access: FunctionAccess;
}

export type TableName =
  | 'notifications'
  | 'recipients'
  | 'inbox'
  | 'rate-limits'
  | 'idempotency'
  | 'metrics'
  | 'memberships'
  | 'broadcasts'
  | 'broadcast-recipients'
  | 'recurring'
  | 'templates';
export type QueueName =
  | 'delivery'
  | 'delivery-dlq'
  | 'scheduler-dlq'
  | 'fanout'
  | 'fanout-dlq'
  | 'broadcast-delivery'
  | 'broadcast-delivery-dlq'
  | 'metrics-dlq'
  | 'ses-feedback'
  | 'ses-feedback-dlq';

/** Write shards of the `due` index: spreads pending writes over partitions (1,000 WCU each). */
export const DUE_INDEX_SHARDS = 16;
/**
 * Write shards of the `byTenant` and `byCreator` listing indexes: one tenant (or one sending
 * service) would otherwise funnel every notification write into one index partition. A listing
 * page queries every shard and merges them newest first.
 */
export const LISTING_INDEX_SHARDS = 4;
/** Write shards of a tenant's hourly metric counters (every transition adds to one of them). */
export const METRICS_SHARDS = 4;
/** Write shards of the `cancelled` index: a bulk cancel (an erasure) must not funnel into one partition. */
export const CANCELLED_INDEX_SHARDS = 16;
/**
 * Write shards of a broadcast's recipient rows (and of its `byStatus` index): a million rows of
 * one broadcast would otherwise all be written to one partition key (1,000 WCU/s).
 */
export const BROADCAST_RECIPIENT_SHARDS = 16;
/**
 * Write shards of the broadcasts' `due` index. A broadcast enters it once (scheduled) and leaves it
 * once (started or cancelled), so four partitions take 2,000 starts a second (recurring broadcasts
 * of many tenants at the top of a minute) while the sweep reads only four per run.
 */
export const BROADCAST_DUE_INDEX_SHARDS = 4;

function upperSnake(name: string): string {
  return name.toUpperCase().replaceAll('-', '_');
}

/**
 * `HERALD_TABLE_<NAME>`, the variable that tells a function a table's physical name
 * (`broadcast-recipients` → `HERALD_TABLE_BROADCAST_RECIPIENTS`). shared/config.ts reads it by this
 * rule, not from the table's description: marked free of side effects for esbuild, the calls in
 * `tables` then let a bundle that reads only variables leave the descriptions out.
 */
/* @__NO_SIDE_EFFECTS__ */
export function tableVariable(name: TableName): string {
  return `HERALD_TABLE_${upperSnake(name)}`;
}

/** `HERALD_QUEUE_<NAME>_URL`, the variable that tells a function a queue's URL (see tableVariable). */
/* @__NO_SIDE_EFFECTS__ */
export function queueUrlVariable(name: QueueName): string {
  return `HERALD_QUEUE_${upperSnake(name)}_URL`;
}

/** `HERALD_QUEUE_<NAME>_ARN`, the variable that tells a function a queue's ARN (see tableVariable). */
/* @__NO_SIDE_EFFECTS__ */
export function queueArnVariable(name: QueueName): string {
  return `HERALD_QUEUE_${upperSnake(name)}_ARN`;
}

/** What the notification listing indexes hold besides the keys: the filters set at creation. */
const listingAttributes = ['type', 'createdBy'];

export const tables: readonly TableDescription[] = [
  {
    name: 'notifications',
    partitionKey: { name: 'pk', type: 'S' },
    indexes: [
      {
        name: 'byRecipient',
        partitionKey: { name: 'recipientKey', type: 'S' },
        sortKey: { name: 'id', type: 'S' },
        // Like the other two listing indexes: the keys, and the two attributes a listing filters on
        // that never change once written. The claim and the commit change the notification but
        // nothing this index holds, so they write no listing entry (the status is read from the items).
        projection: 'INCLUDE',
        projectedAttributes: listingAttributes,
      },
      {
        // `creatorKey` = tenant#sub#shard: what a sender lists (ids sort by creation time).
        name: 'byCreator',
        partitionKey: { name: 'creatorKey', type: 'S' },
        sortKey: { name: 'id', type: 'S' },
        projection: 'INCLUDE',
        projectedAttributes: listingAttributes,
      },
      {
        // `tenantKey` = tenant#shard: what an admin lists, the whole tenant newest first.
        name: 'byTenant',
        partitionKey: { name: 'tenantKey', type: 'S' },
        sortKey: { name: 'id', type: 'S' },
        projection: 'INCLUDE',
        projectedAttributes: listingAttributes,
      },
      {
        // Sparse: only pending and sending notifications carry `dueShard`/`dueAt`.
        name: 'due',
        partitionKey: { name: 'dueShard', type: 'S' },
        sortKey: { name: 'dueAt', type: 'S' },
      },
      {
        // Sparse: only cancelled notifications carry `cancelledShard`; the cleanup sweep reads it.
        name: 'cancelled',
        partitionKey: { name: 'cancelledShard', type: 'S' },
        sortKey: { name: 'cancelledAt', type: 'S' },
      },
    ],
    ttlAttribute: 'expiresAt',
    // Every write, with the item before and after: the metrics function counts the transitions.
    stream: 'NEW_AND_OLD_IMAGES',
    envVar: tableVariable('notifications'),
  },
  {
    name: 'recipients',
    partitionKey: { name: 'pk', type: 'S' },
    // The whole directory of a tenant, in id order (`GET /v1/recipients`, a broadcast to all).
    indexes: [
      { name: 'byTenant', partitionKey: { name: 'tenantId', type: 'S' }, sortKey: { name: 'id', type: 'S' } },
      // Sparse: only recipients whose current e-mail address SES reported bounced or complained of.
      { name: 'emailSuppressed', partitionKey: { name: 'suppressedTenant', type: 'S' }, sortKey: { name: 'id', type: 'S' } },
    ],
    envVar: tableVariable('recipients'),
  },
  {
    // Items keyed tenant#recipient / notificationId, plus one unread counter per recipient
    // (sort key `#unread`, kept in the same transactions as the items it counts).
    name: 'inbox',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'notificationId', type: 'S' },
    indexes: [
      // `arrivalKey` = deliveredAt#notificationId: an inbox newest arrival first.
      { name: 'byArrival', partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'arrivalKey', type: 'S' } },
      // Sparse: only unread items carry `unreadKey` (= pk); read-all pages through it.
      { name: 'unread', partitionKey: { name: 'unreadKey', type: 'S' }, sortKey: { name: 'arrivalKey', type: 'S' } },
    ],
    ttlAttribute: 'expiresAt',
    envVar: tableVariable('inbox'),
  },
  {
    // Send-rate budgets: one item per provider, scope (all tenants or one) and second
    // (pk = provider#scope#epochSecond), whose `used` every claim raises with a conditional ADD.
    name: 'rate-limits',
    partitionKey: { name: 'pk', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiresAt',
    envVar: tableVariable('rate-limits'),
  },
  {
    // Group membership, an index of the directory kept in step with each recipient in the same
    // transaction: groupKey = tenant#group, recipientId sorts the members of a group.
    name: 'memberships',
    partitionKey: { name: 'groupKey', type: 'S' },
    sortKey: { name: 'recipientId', type: 'S' },
    indexes: [],
    envVar: tableVariable('memberships'),
  },
  {
    // Responses of create requests by Idempotency-Key, kept 24 h (the layout of Powertools' idempotency utility).
    name: 'idempotency',
    partitionKey: { name: 'id', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiration',
    envVar: tableVariable('idempotency'),
  },
  {
    // Per-tenant hourly counters: pk = tenant#shard, hour = `2030-01-01T12` (UTC).
    name: 'metrics',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'hour', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiresAt',
    envVar: tableVariable('metrics'),
  },
  {
    // pk = tenant#broadcast: a small item (status, counters, fan-out position) updated per batch;
    // beside it tenant#broadcast#content (message, data) and tenant#broadcast#audience#n (an
    // explicit list in slices), which carry no tenantId and so stay out of the index.
    name: 'broadcasts',
    partitionKey: { name: 'pk', type: 'S' },
    indexes: [
      { name: 'byTenant', partitionKey: { name: 'tenantId', type: 'S' }, sortKey: { name: 'id', type: 'S' } },
      {
        // Sparse: only scheduled broadcasts carry `dueShard`/`dueAt` (the instant their schedule fires
        // for); the stuck-retry sweep starts those whose schedule never did. The status is projected
        // for the sweep's filter; it only changes as a broadcast leaves, so it costs no extra write.
        name: 'due',
        partitionKey: { name: 'dueShard', type: 'S' },
        sortKey: { name: 'dueAt', type: 'S' },
        projection: 'INCLUDE',
        projectedAttributes: ['tenantId', 'id', 'status'],
      },
    ],
    envVar: tableVariable('broadcasts'),
  },
  {
    // One row per recipient of a broadcast: pk = tenant#broadcast#shard, recipientId.
    name: 'broadcast-recipients',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'recipientId', type: 'S' },
    // statusKey = tenant#broadcast#status#shard: the recipients route, retry and the watch's recount read it.
    // Sparse and keys only: only final rows (sent, failed, cancelled) carry a statusKey, so the
    // fan-out's put and the claim write nothing to the index and the outcome puts one entry.
    indexes: [
      {
        name: 'byStatus',
        partitionKey: { name: 'statusKey', type: 'S' },
        sortKey: { name: 'recipientId', type: 'S' },
        projection: 'KEYS_ONLY',
      },
    ],
    ttlAttribute: 'expiresAt',
    envVar: tableVariable('broadcast-recipients'),
  },
  {
    // Recurring notifications (issue 12): pk = tenant#rec_id, the definition (listed per tenant
    // through byTenant); pk = tenant#rec_id#<instant>, one marker per occurrence fired, so that
    // an occurrence delivered twice creates nothing twice (TTL: the markers expire).
    name: 'recurring',
    partitionKey: { name: 'pk', type: 'S' },
    indexes: [{ name: 'byTenant', partitionKey: { name: 'tenantId', type: 'S' }, sortKey: { name: 'id', type: 'S' } }],
    ttlAttribute: 'expiresAt',
    envVar: tableVariable('recurring'),
  },
  {
    // pk = tenant#template: version 0 is the head (latest version, description; `tenantId` while
    // the template exists, so it alone is in the index), version n the definition of version n.
    name: 'templates',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'version', type: 'N' },
    // The tenant's templates in id order (`GET /v1/templates`).
    indexes: [{ name: 'byTenant', partitionKey: { name: 'tenantId', type: 'S' }, sortKey: { name: 'id', type: 'S' } }],
    envVar: tableVariable('templates'),
  },
];

const deliverTimeoutSeconds = 30;
const fanoutTimeoutSeconds = 60;
const broadcastDeliverTimeoutSeconds = 60;
const sesFeedbackTimeoutSeconds = 30;

/**
 * The visibility timeout of a queue that triggers a function: six times the function's timeout, as
 * AWS advises ("Using Lambda with Amazon SQS"), so a batch is not handed out again while it runs.
 * Marked free of side effects for esbuild (see tableVariable): a product of a variable counts as
 * one otherwise, and would keep `queues` in every bundle.
 */
/* @__NO_SIDE_EFFECTS__ */
function visibilityFor(timeoutSeconds: number): number {
  return timeoutSeconds * 6;
}

// Written out: esbuild counts a product such as `24 * 60 * 60` as a possible side effect.
const oneHourSeconds = 3_600;
const oneDaySeconds = 86_400;

export const queues: readonly QueueDescription[] = [
  {
    name: 'delivery',
    visibilityTimeoutSeconds: visibilityFor(deliverTimeoutSeconds),
    retentionDays: 14,
    // Generous: an early message is deferred (one receive) before it is delivered on time.
    deadLetter: { queue: 'delivery-dlq', maxReceiveCount: 10 },
    urlEnvVar: queueUrlVariable('delivery'),
    arnEnvVar: queueArnVariable('delivery'),
  },
  {
    // Messages received maxReceiveCount times, and those of notifications failed after their last retry.
    name: 'delivery-dlq',
    visibilityTimeoutSeconds: 30,
    retentionDays: 14,
    urlEnvVar: queueUrlVariable('delivery-dlq'),
    arnEnvVar: queueArnVariable('delivery-dlq'),
    // A dead letter keeps its first enqueue time, so one may expire soon after it lands: redrive within days.
    deadLetters: { redriveTo: 'delivery', oldestMessageAlarmSeconds: oneDaySeconds },
  },
  {
    // Where EventBridge Scheduler puts a firing it could not deliver to the delivery queue.
    name: 'scheduler-dlq',
    visibilityTimeoutSeconds: 30,
    retentionDays: 14,
    urlEnvVar: queueUrlVariable('scheduler-dlq'),
    arnEnvVar: queueArnVariable('scheduler-dlq'),
    deadLetters: { redriveTo: 'delivery', oldestMessageAlarmSeconds: oneDaySeconds },
  },
  {
    // One step of a broadcast's fan-out per message: its schedule's `start`, then each step enqueues the next.
    name: 'fanout',
    visibilityTimeoutSeconds: visibilityFor(fanoutTimeoutSeconds),
    retentionDays: 14,
    deadLetter: { queue: 'fanout-dlq', maxReceiveCount: 10 },
    urlEnvVar: queueUrlVariable('fanout'),
    arnEnvVar: queueArnVariable('fanout'),
  },
  {
    // Fan-out steps that kept failing, and broadcast schedule firings Scheduler could not deliver.
    name: 'fanout-dlq',
    visibilityTimeoutSeconds: 30,
    retentionDays: 14,
    urlEnvVar: queueUrlVariable('fanout-dlq'),
    arnEnvVar: queueArnVariable('fanout-dlq'),
    deadLetters: { redriveTo: 'fanout', oldestMessageAlarmSeconds: oneDaySeconds },
  },
  {
    // Broadcast deliveries, several recipients per message, apart from notifications' so a big
    // broadcast never holds up a single notification.
    name: 'broadcast-delivery',
    visibilityTimeoutSeconds: visibilityFor(broadcastDeliverTimeoutSeconds),
    retentionDays: 14,
    deadLetter: { queue: 'broadcast-delivery-dlq', maxReceiveCount: 10 },
    urlEnvVar: queueUrlVariable('broadcast-delivery'),
    arnEnvVar: queueArnVariable('broadcast-delivery'),
  },
  {
    name: 'broadcast-delivery-dlq',
    visibilityTimeoutSeconds: 30,
    retentionDays: 14,
    urlEnvVar: queueUrlVariable('broadcast-delivery-dlq'),
    arnEnvVar: queueArnVariable('broadcast-delivery-dlq'),
    deadLetters: { redriveTo: 'broadcast-delivery', oldestMessageAlarmSeconds: oneDaySeconds },
  },
  {
    // Batches of the notifications stream the metrics function gave up on: each message describes
    // one batch (shard, first and last sequence numbers); its counts are missing from the metrics.
    name: 'metrics-dlq',
    visibilityTimeoutSeconds: 30,
    retentionDays: 14,
    urlEnvVar: queueUrlVariable('metrics-dlq'),
    arnEnvVar: queueArnVariable('metrics-dlq'),
    // Not redriven: the records it points at leave the stream 24 h after they were written, so look within the hour.
    deadLetters: { oldestMessageAlarmSeconds: oneHourSeconds },
  },
  {
    // SES's bounces and complaints, one EventBridge event per message.
    name: 'ses-feedback',
    visibilityTimeoutSeconds: visibilityFor(sesFeedbackTimeoutSeconds),
    retentionDays: 14,
    deadLetter: { queue: 'ses-feedback-dlq', maxReceiveCount: 10 },
    urlEnvVar: queueUrlVariable('ses-feedback'),
    arnEnvVar: queueArnVariable('ses-feedback'),
    receivesEmailFeedback: true,
  },
  {
    name: 'ses-feedback-dlq',
    visibilityTimeoutSeconds: 30,
    retentionDays: 14,
    urlEnvVar: queueUrlVariable('ses-feedback-dlq'),
    arnEnvVar: queueArnVariable('ses-feedback-dlq'),
    deadLetters: { redriveTo: 'ses-feedback', oldestMessageAlarmSeconds: oneDaySeconds },
  },
];

/** The HTTP API routes, all served by the `api` function. */
export const httpRoutes: readonly HttpRoute[] = [
  { method: 'GET', path: '/health', auth: 'none' },
  // The API documented: an OpenAPI 3.1 document and its HTML rendering.
  { method: 'GET', path: '/openapi.json', auth: 'none' },
  { method: 'GET', path: '/docs', auth: 'none' },
  { method: 'PUT', path: '/v1/recipients/{id}', auth: 'jwt' },
  { method: 'GET', path: '/v1/recipients/{id}', auth: 'jwt' },
  { method: 'DELETE', path: '/v1/recipients/{id}', auth: 'jwt' },
  { method: 'GET', path: '/v1/recipients', auth: 'jwt' },
  { method: 'POST', path: '/v1/recipients/batch', auth: 'jwt' },
  { method: 'GET', path: '/v1/me', auth: 'jwt' },
  { method: 'PATCH', path: '/v1/me', auth: 'jwt' },
  { method: 'POST', path: '/v1/me/verify', auth: 'jwt' },
  { method: 'POST', path: '/v1/me/push-subscriptions', auth: 'jwt' },
  { method: 'GET', path: '/v1/me/push-subscriptions', auth: 'jwt' },
  { method: 'DELETE', path: '/v1/me/push-subscriptions/{id}', auth: 'jwt' },
  { method: 'POST', path: '/v1/me/devices', auth: 'jwt' },
  { method: 'GET', path: '/v1/me/devices', auth: 'jwt' },
  { method: 'DELETE', path: '/v1/me/devices/{id}', auth: 'jwt' },
  { method: 'GET', path: '/v1/me/push/vapid-public-key', auth: 'jwt' },
  { method: 'GET', path: '/v1/me/inbox', auth: 'jwt' },
  { method: 'GET', path: '/v1/me/inbox/unread-count', auth: 'jwt' },
  { method: 'POST', path: '/v1/me/inbox/{id}/read', auth: 'jwt' },
  { method: 'POST', path: '/v1/me/inbox/read-all', auth: 'jwt' },
  // Issue 12: the tenant's default zone and quiet hours.
  { method: 'GET', path: '/v1/settings', auth: 'jwt' },
  { method: 'PUT', path: '/v1/settings', auth: 'jwt' },
  { method: 'POST', path: '/v1/recurring-notifications', auth: 'jwt' },
  { method: 'GET', path: '/v1/recurring-notifications', auth: 'jwt' },
  { method: 'GET', path: '/v1/recurring-notifications/{id}', auth: 'jwt' },
  { method: 'PATCH', path: '/v1/recurring-notifications/{id}', auth: 'jwt' },
  { method: 'DELETE', path: '/v1/recurring-notifications/{id}', auth: 'jwt' },
  { method: 'POST', path: '/v1/notifications', auth: 'jwt' },
  { method: 'GET', path: '/v1/notifications', auth: 'jwt' },
  { method: 'GET', path: '/v1/notifications/{id}', auth: 'jwt' },
  { method: 'PATCH', path: '/v1/notifications/{id}', auth: 'jwt' },
  { method: 'DELETE', path: '/v1/notifications/{id}', auth: 'jwt' },
  { method: 'POST', path: '/v1/notifications/{id}/send-now', auth: 'jwt' },
  { method: 'POST', path: '/v1/notifications/{id}/retry', auth: 'jwt' },
  { method: 'GET', path: '/v1/metrics', auth: 'jwt' },
  { method: 'GET', path: '/v1/settings/webhook-secret', auth: 'jwt' },
  { method: 'POST', path: '/v1/settings/webhook-secret/rotate', auth: 'jwt' },
  { method: 'POST', path: '/v1/broadcasts', auth: 'jwt' },
  { method: 'GET', path: '/v1/broadcasts', auth: 'jwt' },
  { method: 'GET', path: '/v1/broadcasts/{id}', auth: 'jwt' },
  { method: 'DELETE', path: '/v1/broadcasts/{id}', auth: 'jwt' },
  { method: 'POST', path: '/v1/broadcasts/{id}/schedule', auth: 'jwt' },
  { method: 'POST', path: '/v1/broadcasts/{id}/retry', auth: 'jwt' },
  // Addresses SES reported bounced or complained of (admins): listed, and lifted one recipient at a time.
  { method: 'GET', path: '/v1/suppressions', auth: 'jwt' },
  { method: 'DELETE', path: '/v1/suppressions/{recipientId}', auth: 'jwt' },
  { method: 'GET', path: '/v1/broadcasts/{id}/recipients', auth: 'jwt' },
  // The operators' view of the shared dead-letter queues (the console's dead-letter panel).
  { method: 'GET', path: '/v1/admin/dead-letters', auth: 'jwt' },
  { method: 'POST', path: '/v1/admin/dead-letters/{queue}/redrive', auth: 'jwt' },
  { method: 'PUT', path: '/v1/templates/{id}', auth: 'jwt' },
  { method: 'GET', path: '/v1/templates', auth: 'jwt' },
  { method: 'GET', path: '/v1/templates/{id}', auth: 'jwt' },
  { method: 'DELETE', path: '/v1/templates/{id}', auth: 'jwt' },
  { method: 'GET', path: '/v1/templates/{id}/versions/{version}', auth: 'jwt' },
  { method: 'POST', path: '/v1/templates/{id}/preview', auth: 'jwt' },
  // The Celery scheduler's routes, declared as its clients call them: trailing slash included.
  // A route key cannot end in `/`, so the HTTP API serves them on greedy routes and the api
  // function names them back (lib/http-gateway-routes.ts says why and what that relies on).
  { method: 'POST', path: '/api/notifications/schedule/', auth: 'jwt' },
  { method: 'DELETE', path: '/api/notifications/{id}/cancel_scheduled/', auth: 'jwt' },
  { method: 'GET', path: '/api/notifications/{id}/schedule_status/', auth: 'jwt' },
];

/** A delivery channel, as the functions that deliver on it must be equipped. */
export interface ChannelDescription {
  /** The channel's name, as requests and delivery records name it (`shared/domain/notification.ts`). */
  readonly name: string;
  /** The module that implements it, relative to the repository root (`shared/delivery/channels/`). */
  readonly module: string;
  /** What delivering on it needs: its grants and its settings. */
  readonly access: FunctionAccess;
}

/**
 * Every channel the delivery engine delivers on. Adding a channel is its module plus its entry
 * here: the functions that deliver get its grants and settings through `deliveringAccess`.
 */
export const channelDescriptions: readonly ChannelDescription[] = [
  // The item, its unread counter and the user's live state; the recipient must still exist.
  { name: 'inbox', module: 'shared/delivery/channels/inbox.ts', access: { tables: { inbox: 'readWrite', recipients: 'read' } } },
  // Frames through the WebSocket API's @connections; gone connections are dropped from the live item.
  { name: 'websocket', module: 'shared/delivery/channels/websocket.ts', access: { postsToConnections: true, tables: { inbox: 'readWrite' } } },
  // SES, within its send budget (the `sendBudgets` settings; the rate-limits table holds the budget).
  { name: 'email', module: 'shared/delivery/channels/email.ts', access: { sendsEmail: true, settings: ['sendBudgets'], tables: { 'rate-limits': 'readWrite' } } },
  // Web Push to browsers, SNS platform endpoints to devices; the targets live on the user's live item, where a gone one is removed.
  { name: 'push', module: 'shared/delivery/channels/push.ts', access: { pushes: 'deliver', tables: { inbox: 'readWrite' } } },
  // SNS Publish to the phone number, within its send budget (the `sendBudgets` settings).
  { name: 'sms', module: 'shared/delivery/channels/sms.ts', access: { sendsSms: true, settings: ['sendBudgets'], tables: { 'rate-limits': 'readWrite' } } },
  // The Bot API's sendMessage, with the token from its secret; a group upgraded to a supergroup has
  // its new chat id written to the recipient.
  { name: 'telegram', module: 'shared/delivery/channels/telegram.ts', access: { sendsTelegram: true, tables: { recipients: 'readWrite' } } },
  // Signed POSTs; the tenant's secret lives in the recipients table, and a 410 removes the URL there.
  { name: 'webhook', module: 'shared/delivery/channels/webhook.ts', access: { postsWebhooks: true, tables: { recipients: 'readWrite' } } },
];

/** `a` and `b` together: the wider table access wins, lists are joined, switches are or-ed. */
export function mergeAccess(a: FunctionAccess, b: FunctionAccess): FunctionAccess {
  const tables: Partial<Record<TableName, 'read' | 'readWrite'>> = { ...a.tables };
  for (const [name, level] of Object.entries(b.tables ?? {}) as [TableName, 'read' | 'readWrite'][]) {
    tables[name] = tables[name] === 'readWrite' || level === 'readWrite' ? 'readWrite' : 'read';
  }
  const union = <T>(x: readonly T[] | undefined, y: readonly T[] | undefined): T[] | undefined =>
    x === undefined && y === undefined ? undefined : [...new Set([...(x ?? []), ...(y ?? [])])];
  const sendsTo = union(a.sendsTo, b.sendsTo);
  const settings = union(a.settings, b.settings);
  const flag = (key: 'schedules' | 'schedulesBroadcasts' | 'sendsEmail' | 'sendsSms' | 'postsToConnections' | 'verifiesTokens' | 'sendsTelegram' | 'postsWebhooks'): Partial<FunctionAccess> =>
    a[key] || b[key] ? { [key]: true } : {};
  const pushes = a.pushes === undefined ? b.pushes : b.pushes === undefined || b.pushes === a.pushes ? a.pushes : 'both';
  return {
    ...(Object.keys(tables).length > 0 ? { tables } : {}),
    ...(sendsTo ? { sendsTo } : {}),
    ...(settings ? { settings } : {}),
    ...flag('schedules'),
    ...flag('schedulesBroadcasts'),
    ...flag('sendsEmail'),
    ...flag('sendsSms'),
    ...(pushes ? { pushes } : {}),
    ...flag('postsToConnections'),
    ...flag('verifiesTokens'),
    ...flag('sendsTelegram'),
    ...flag('postsWebhooks'),
  };
}

/**
 * What the engine itself needs whatever the channels: a templated delivery reads its template's
 * version to render it for the recipient.
 */
export const engineAccess: FunctionAccess = { tables: { templates: 'read' } };

/**
 * The access of a function that runs the delivery engine: its own, the engine's, plus every channel's.
 * Marked free of side effects for esbuild: the `functions` list calls it, and a bundle that reads
 * only the tables or queues (every function, through shared/config.ts) can then leave the list out.
 */
/* @__NO_SIDE_EFFECTS__ */
export function deliveringAccess(own: FunctionAccess): FunctionAccess {
  return channelDescriptions.reduce((access, channel) => mergeAccess(access, channel.access), mergeAccess(own, engineAccess));
}

export const functions: readonly FunctionDescription[] = [
  {
    name: 'api',
    entry: 'functions/api/handler.ts',
    handler: 'handler',
    memoryMb: 512,
    timeoutSeconds: 29,
    // At most this many requests at once, whatever the flood: the rest of the account's concurrency
    // stays for delivery (the stage's rate limit answers 429 before this is reached, as a rule).
    reservedConcurrency: 100,
    triggers: [{ kind: 'http', routes: httpRoutes }],
    access: {
      tables: {
        notifications: 'readWrite',
        recipients: 'readWrite',
        idempotency: 'readWrite',
        // GET /v1/metrics; the counts are written by the metrics function.
        metrics: 'read',
        memberships: 'readWrite',
        inbox: 'readWrite',
        broadcasts: 'readWrite',
        'broadcast-recipients': 'read',
        // The limits on what plain users send themselves (notifications, verification codes).
        'rate-limits': 'readWrite',
        // Issue 12: recurring notifications and their schedules.
        recurring: 'readWrite',
        // /v1/templates, and the templates a create names.
        templates: 'readWrite',
      },
      // The fan-out queue: a cancel or a retry of a broadcast nudges its fan-out.
      sendsTo: ['delivery', 'fanout'],
      schedules: true,
      schedulesBroadcasts: true,
      // Reading an inbox item tells every open connection of its user the new unread count.
      postsToConnections: true,
      // The operators' routes (/v1/admin/dead-letters): the console's dead-letter panel.
      redrivesDeadLetters: true,
      // The code that confirms an address a user set for themself (PATCH /v1/me): by e-mail, by
      // SMS (each within its provider's send budget, as deliveries), by the Telegram bot, or in a
      // signed webhook.
      sendsEmail: true,
      sendsSms: true,
      sendsTelegram: true,
      postsWebhooks: true,
      // The users' devices become SNS platform endpoints (POST /v1/me/devices); browsers get the VAPID key.
      pushes: 'register',
      // The caller is read from the claims the HTTP API's JWT authorizer hands on.
      // The per-tenant request quota is counted in the rate-limits table too, and so are the send
      // budgets the verification codes take their e-mail or SMS from.
      settings: ['selfSend', 'claims', 'requestQuota', 'sendBudgets'],
    },
  },
  {
    name: 'ws-authorizer',
    entry: 'functions/ws-authorizer/handler.ts',
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: 10,
    triggers: [{ kind: 'websocket-authorizer', identitySource: 'route.request.querystring.token' }],
    access: { verifiesTokens: true, settings: ['claims'] },
  },
  {
    name: 'ws-connect',
    entry: 'functions/ws-connect/handler.ts',
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: 10,
    triggers: [{ kind: 'websocket', route: '$connect' }],
    // Open connections are kept on the user's live item in the inbox table, beside the unread count.
    access: { tables: { inbox: 'readWrite' } },
  },
  {
    name: 'ws-disconnect',
    entry: 'functions/ws-disconnect/handler.ts',
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: 10,
    triggers: [{ kind: 'websocket', route: '$disconnect' }],
    access: { tables: { inbox: 'readWrite' } },
  },
  {
    name: 'ws-default',
    entry: 'functions/ws-default/handler.ts',
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: 10,
    triggers: [{ kind: 'websocket', route: '$default' }],
    access: { postsToConnections: true },
  },
  {
    // `{ "action": "markRead", "id" }`: the WebSocket twin of POST /v1/me/inbox/{id}/read.
    name: 'ws-mark-read',
    entry: 'functions/ws-mark-read/handler.ts',
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: 10,
    triggers: [{ kind: 'websocket', route: 'markRead' }],
    access: { tables: { inbox: 'readWrite' }, postsToConnections: true },
  },
  {
    name: 'deliver',
    entry: 'functions/deliver/handler.ts',
    handler: 'handler',
    memoryMb: 512,
    timeoutSeconds: deliverTimeoutSeconds,
    // Exactly the batches its queue mapping runs at once: always there, never more.
    reservedConcurrency: 20,
    triggers: [
      {
        kind: 'queue',
        queue: 'delivery',
        batchSize: 10,
        maxBatchingWindowSeconds: 0,
        reportBatchItemFailures: true,
        // A batch may wait up to a couple of seconds for its time: more of them keep the queue moving.
        maximumConcurrency: 20,
      },
    ],
    // The delivery engine: its own needs, and every channel's (channelDescriptions). Metrics are
    // counted from the notifications table's stream, not here.
    access: deliveringAccess({
      tables: { notifications: 'readWrite', recipients: 'read' },
      // The DLQ: a notification that failed after its last retry is dead-lettered explicitly.
      sendsTo: ['delivery', 'delivery-dlq'],
      // A wait beyond the 15 minutes SQS can delay a message (a long retry backoff) is a schedule.
      schedules: true,
      settings: ['retry', 'delivery'],
    }),
  },
  {
    // The safety net: puts back on the delivery queue what nothing is delivering, and sends a start
    // to the fan-out queue for each scheduled broadcast whose schedule never fired.
    name: 'stuck-retry',
    entry: 'functions/stuck-retry/handler.ts',
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: 120,
    triggers: [{ kind: 'rule', ruleName: 'stuck-retry', schedule: 'rate(5 minutes)' }],
    access: { tables: { notifications: 'read', broadcasts: 'read' }, sendsTo: ['delivery', 'fanout'], settings: ['sweeps'] },
  },
  {
    // Deletes cancelled notifications after their retention (sent and failed ones expire by TTL).
    name: 'cleanup',
    entry: 'functions/cleanup/handler.ts',
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: 300,
    triggers: [{ kind: 'rule', ruleName: 'cleanup', schedule: 'cron(0 3 * * ? *)' }],
    access: { tables: { notifications: 'readWrite' }, settings: ['sweeps'] },
  },
  {
    // A broadcast's fan-out, one bounded step per message: resolves the audience page by page into
    // recipient rows, counts them, then puts them on the broadcast delivery queue; cancel and retry
    // walk the rows the same way.
    name: 'fanout',
    entry: 'functions/fanout/handler.ts',
    handler: 'handler',
    memoryMb: 512,
    timeoutSeconds: fanoutTimeoutSeconds,
    triggers: [{ kind: 'queue', queue: 'fanout', batchSize: 10, maxBatchingWindowSeconds: 0, reportBatchItemFailures: true, maximumConcurrency: 5 }],
    access: {
      // Issue 12: it also runs each occurrence of a recurring notification (its schedule targets this
      // queue), creating a notification (notifications, the delivery queue, its schedules) or a broadcast.
      // An occurrence is due now, so it schedules nothing: its notifications go straight onto the
      // delivery queue, its broadcast's start onto the fan-out queue.
      tables: { broadcasts: 'readWrite', 'broadcast-recipients': 'readWrite', recipients: 'read', memberships: 'read', recurring: 'readWrite', notifications: 'readWrite' },
      sendsTo: ['fanout', 'broadcast-delivery', 'delivery'],
      settings: ['retry'],
    },
  },
  {
    // Delivers a broadcast, several recipients per message, each exactly once on each channel.
    name: 'broadcast-deliver',
    entry: 'functions/broadcast-deliver/handler.ts',
    handler: 'handler',
    memoryMb: 512,
    timeoutSeconds: broadcastDeliverTimeoutSeconds,
    reservedConcurrency: 10,
    triggers: [
      { kind: 'queue', queue: 'broadcast-delivery', batchSize: 10, maxBatchingWindowSeconds: 0, reportBatchItemFailures: true, maximumConcurrency: 10 },
    ],
    // The delivery engine: its own needs, and every channel's (channelDescriptions).
    access: deliveringAccess({
      tables: { broadcasts: 'readWrite', 'broadcast-recipients': 'readWrite', recipients: 'read' },
      settings: ['retry', 'delivery'],
    }),
  },
  {
    // The tenants' metrics, counted from the notifications table's stream: one ADD per tenant-hour
    // per batch, so neither the API nor a delivery spends a call on them.
    name: 'metrics',
    entry: 'functions/metrics/handler.ts',
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: 30,
    triggers: [
      {
        kind: 'stream',
        table: 'notifications',
        // One GetRecords call's worth. The window gathers a quiet table's records for 5 s: a
        // notification's create, claim and commit then share one invocation and one ADD instead
        // of three each (a busy table fills batches sooner); the counts follow by about 5 s.
        batchSize: 1000,
        maxBatchingWindowSeconds: 5,
        // A new mapping counts what the stream still holds (24 h) rather than dropping it.
        startingPosition: 'TRIM_HORIZON',
        reportBatchItemFailures: true,
        bisectBatchOnFunctionError: true,
        // Then the batch is given up (its counts are lost, the DLQ says which records) rather than
        // holding the shard for the 24 h the records live.
        maximumRetryAttempts: 10,
        onFailure: 'metrics-dlq',
      },
    ],
    access: { tables: { metrics: 'readWrite' } },
  },
  {
    // Marks the addresses SES reported bounced (permanently) or complained of, so that the e-mail channel skips them.
    name: 'ses-feedback',
    entry: 'functions/ses-feedback/handler.ts',
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: sesFeedbackTimeoutSeconds,
    triggers: [{ kind: 'queue', queue: 'ses-feedback', batchSize: 10, maxBatchingWindowSeconds: 0, reportBatchItemFailures: true, maximumConcurrency: 2 }],
    access: { tables: { recipients: 'readWrite' }, sendsTo: ['ses-feedback'], settings: ['retry'] },
  },
];

/** WebSocket route selection, as API Gateway evaluates it on each message. */
export const websocketRouteSelectionExpression = '$request.body.action';

/** Name of the EventBridge Scheduler group that holds one schedule per notification. */
export const scheduleGroupName = 'herald';

/** Looks up a table by name; throws on a name the description does not hold. */
export function tableByName(name: TableName): TableDescription {
  const table = tables.find((t) => t.name === name);
  if (!table) throw new Error(`No table named ${name} in the app description`);
  return table;
}

/** Looks up a queue by name; throws on a name the description does not hold. */
export function queueByName(name: QueueName): QueueDescription {
  const queue = queues.find((q) => q.name === name);
  if (!queue) throw new Error(`No queue named ${name} in the app description`);
  return queue;
}

/** The dead-letter queues an operator watches (those that declare `deadLetters`), in the description's order. */
export function deadLetterQueues(): readonly QueueDescription[] {
  return queues.filter((q) => q.deadLetters !== undefined);
}

/** The queues a function with `redrivesDeadLetters` is told of: every dead-letter queue and each redrive destination. */
export function redriveQueueNames(): readonly QueueName[] {
  const names = deadLetterQueues().flatMap((q) => [q.name, ...(q.deadLetters?.redriveTo ? [q.deadLetters.redriveTo] : [])]);
  return [...new Set(names)];
}
