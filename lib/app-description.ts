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

/** A global secondary index; every Herald index projects all attributes. */
export interface IndexDescription {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

export interface TableDescription {
  /** Logical name, also the table-name suffix (`herald-<stage>-<name>` on AWS). */
  readonly name: TableName;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly indexes: readonly IndexDescription[];
  /** Attribute holding an epoch-seconds expiry; absent on items that must never expire. */
  readonly ttlAttribute?: string;
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
    }
  | { readonly kind: 'rule'; readonly ruleName: string; readonly schedule: string };

/** What a function may touch; the CDK grants exactly this and sets the matching variables. */
export interface FunctionAccess {
  readonly tables?: Readonly<Partial<Record<TableName, 'read' | 'readWrite'>>>;
  /** Queues the function sends to (or changes visibility on). */
  readonly sendsTo?: readonly QueueName[];
  /** Creates and deletes one-shot schedules in the Herald schedule group. */
  readonly schedules?: boolean;
  /** Sends email through SES. */
  readonly sendsEmail?: boolean;
  /** Posts to WebSocket connections through the API Gateway Management API. */
  readonly postsToConnections?: boolean;
  /** Verifies JWTs itself (the WebSocket authorizer). */
  readonly verifiesTokens?: boolean;
}

export interface FunctionDescription {
  readonly name: string;
  /** Path of the handler module, relative to the repository root. */
  readonly entry: string;
  /** Exported handler function name. */
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly triggers: readonly Trigger[];
  readonly access: FunctionAccess;
}

export type TableName = 'notifications' | 'recipients' | 'inbox' | 'connections';
export type QueueName = 'delivery' | 'delivery-dlq' | 'scheduler-dlq';

/** Write shards of the `due` index: spreads pending writes over partitions (1,000 WCU each). */
export const DUE_INDEX_SHARDS = 16;

export const tables: readonly TableDescription[] = [
  {
    name: 'notifications',
    partitionKey: { name: 'pk', type: 'S' },
    indexes: [
      {
        name: 'byRecipient',
        partitionKey: { name: 'recipientKey', type: 'S' },
        sortKey: { name: 'id', type: 'S' },
      },
      {
        // Sparse: only pending and sending notifications carry `dueShard`/`dueAt`.
        name: 'due',
        partitionKey: { name: 'dueShard', type: 'S' },
        sortKey: { name: 'dueAt', type: 'S' },
      },
    ],
    ttlAttribute: 'expiresAt',
    envVar: 'HERALD_TABLE_NOTIFICATIONS',
  },
  {
    name: 'recipients',
    partitionKey: { name: 'pk', type: 'S' },
    indexes: [],
    envVar: 'HERALD_TABLE_RECIPIENTS',
  },
  {
    name: 'inbox',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'notificationId', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiresAt',
    envVar: 'HERALD_TABLE_INBOX',
  },
  {
    name: 'connections',
    partitionKey: { name: 'connectionId', type: 'S' },
    indexes: [{ name: 'byUser', partitionKey: { name: 'userKey', type: 'S' } }],
    ttlAttribute: 'expiresAt',
    envVar: 'HERALD_TABLE_CONNECTIONS',
  },
];

const deliverTimeoutSeconds = 30;

export const queues: readonly QueueDescription[] = [
  {
    name: 'delivery',
    visibilityTimeoutSeconds: deliverTimeoutSeconds * 6,
    retentionDays: 14,
    // Generous: an early message is deferred (one receive) before it is delivered on time.
    deadLetter: { queue: 'delivery-dlq', maxReceiveCount: 10 },
    urlEnvVar: 'HERALD_QUEUE_DELIVERY_URL',
    arnEnvVar: 'HERALD_QUEUE_DELIVERY_ARN',
  },
  {
    name: 'delivery-dlq',
    visibilityTimeoutSeconds: 30,
    retentionDays: 14,
    urlEnvVar: 'HERALD_QUEUE_DELIVERY_DLQ_URL',
    arnEnvVar: 'HERALD_QUEUE_DELIVERY_DLQ_ARN',
  },
  {
    // Where EventBridge Scheduler puts a firing it could not deliver to the delivery queue.
    name: 'scheduler-dlq',
    visibilityTimeoutSeconds: 30,
    retentionDays: 14,
    urlEnvVar: 'HERALD_QUEUE_SCHEDULER_DLQ_URL',
    arnEnvVar: 'HERALD_QUEUE_SCHEDULER_DLQ_ARN',
  },
];

/** The HTTP API routes, all served by the `api` function. */
export const httpRoutes: readonly HttpRoute[] = [
  { method: 'GET', path: '/health', auth: 'none' },
  { method: 'PUT', path: '/v1/recipients/{id}', auth: 'jwt' },
  { method: 'GET', path: '/v1/recipients/{id}', auth: 'jwt' },
  { method: 'POST', path: '/v1/notifications', auth: 'jwt' },
  { method: 'GET', path: '/v1/notifications/{id}', auth: 'jwt' },
  { method: 'DELETE', path: '/v1/notifications/{id}', auth: 'jwt' },
];

export const functions: readonly FunctionDescription[] = [
  {
    name: 'api',
    entry: 'functions/api/handler.ts',
    handler: 'handler',
    memoryMb: 512,
    timeoutSeconds: 29,
    triggers: [{ kind: 'http', routes: httpRoutes }],
    access: {
      tables: { notifications: 'readWrite', recipients: 'readWrite' },
      sendsTo: ['delivery'],
      schedules: true,
    },
  },
  {
    name: 'ws-authorizer',
    entry: 'functions/ws-authorizer/handler.ts',
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: 10,
    triggers: [{ kind: 'websocket-authorizer', identitySource: 'route.request.querystring.token' }],
    access: { verifiesTokens: true },
  },
  {
    name: 'ws-connect',
    entry: 'functions/ws-connect/handler.ts',
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: 10,
    triggers: [{ kind: 'websocket', route: '$connect' }],
    access: { tables: { connections: 'readWrite' } },
  },
  {
    name: 'ws-disconnect',
    entry: 'functions/ws-disconnect/handler.ts',
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: 10,
    triggers: [{ kind: 'websocket', route: '$disconnect' }],
    access: { tables: { connections: 'readWrite' } },
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
    name: 'deliver',
    entry: 'functions/deliver/handler.ts',
    handler: 'handler',
    memoryMb: 512,
    timeoutSeconds: deliverTimeoutSeconds,
    triggers: [
      {
        kind: 'queue',
        queue: 'delivery',
        batchSize: 10,
        maxBatchingWindowSeconds: 0,
        reportBatchItemFailures: true,
      },
    ],
    access: {
      tables: { notifications: 'readWrite', recipients: 'read', inbox: 'readWrite', connections: 'readWrite' },
      sendsTo: ['delivery'],
      sendsEmail: true,
      postsToConnections: true,
    },
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
