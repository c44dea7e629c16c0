/**
 * The local stack: one Node process that plays AWS for Herald, started and stopped
 * symmetrically. It reads the same app description as the CDK stacks, creates the same tables
 * and queues, and runs the very same handlers, each in its own worker thread with its own
 * environment, reaching every emulator through the SDK's standard `AWS_ENDPOINT_URL_<SERVICE>`
 * variables.
 */
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ListTablesCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateScheduleGroupCommand, ConflictException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  functions,
  projectionOf,
  queues,
  scheduleGroupName,
  tables,
  websocketRouteSelectionExpression,
} from '../lib/app-description.ts';
import type { FunctionDescription, HttpRoute, TableDescription } from '../lib/app-description.ts';
import { ApiCallCounter } from './api-call-counter.ts';
import { createCallHook } from './aws-call-hook.ts';
import { createControlApi } from './control-api.ts';
import { serveHomePage } from './home-page.ts';
import { Outbox } from './outbox.ts';
import { startDynamoDbEndpoint } from './dynamodb/endpoint.ts';
import type { StoreWrites } from './dynamodb/write-counter.ts';
import { createEventSourceMapping } from './event-source-mapping.ts';
import { createFaultInjector, parseFaultRules } from './fault-rules.ts';
import type { FaultInjector, FaultRule } from './fault-rules.ts';
import { defaultDeploymentSettings, localEnvironmentSources, localPlatformApplications, startFunctionWorkers } from './function-workers.ts';
import { watchHeap } from './heap-watch.ts';
import { claimsVariables } from '../lib/function-environment.ts';
import { gatewayRoutes } from '../lib/http-gateway-routes.ts';
import { startHttpGateway } from './http-gateway.ts';
import type { RunningHttpGateway } from './http-gateway.ts';
import { DEFAULT_SIGNING_KEY_FILE, LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER, publicJwks, signToken } from './jwt-keys.ts';
import { createConsoleSite } from './console-site.ts';
import { LOCAL_ACCOUNT_ID } from './lambda-runtime.ts';
import type { InitializationType, LocalFunction } from './lambda-runtime.ts';
import type { LogFormat } from './log-format.ts';
import type { RuleRunner } from './control-api.ts';
import { createRuleTimers } from './rule-timers.ts';
import { startSchedulerEmulator } from './scheduler-emulator.ts';
import { startPushService } from './push-service.ts';
import type { PushService } from './push-service.ts';
import { startSecretsManagerEmulator } from './secrets-manager-emulator.ts';
import { startSesEmulator } from './ses-emulator.ts';
import { feedbackEventsFor } from './ses-feedback.ts';
import { EmfMetrics } from './emf-metrics.ts';
import type { AcceptedEmail } from './ses-feedback.ts';
import { startSnsEmulator } from './sns-emulator.ts';
import type { SnsEmulator } from './sns-emulator.ts';
import { localTelegramBotToken, startTelegramEmulator } from './telegram-emulator.ts';
import type { TelegramEmulator } from './telegram-emulator.ts';
import { webhookSentChannel } from '../shared/adapters/webhook-sender.ts';
import { loadVapidSecret } from './vapid-secret.ts';
import { startSqsEmulator } from './sqs-emulator.ts';
import { createStreamEventSourceMapping } from './stream-event-source-mapping.ts';
import { createTtlReaper } from './ttl-reaper.ts';
import { startWebSocketGateway } from './websocket-gateway.ts';
import { withoutSdkLogger } from '../shared/adapters/sdk-logger.ts';
import { claimsConfig } from '../shared/config.ts';

export const LOCAL_REGION = 'us-east-1';

const LOCAL_STAGE = 'local';
/** The emulators accept any credentials; the SDK only needs some to sign with. */
const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalStackOptions {
  /** HTTP API port; 0 picks a free one. @default 3000 */
  readonly httpPort?: number;
  /** WebSocket API (and `@connections`) port. @default 3001 */
  readonly wsPort?: number;
  /** Local SES (API and sent-mail viewer) port. @default 8005 */
  readonly sesPort?: number;
  /** Local Telegram Bot API port; 0 picks a free one (`npm start` uses 8006). @default 0 */
  readonly telegramPort?: number;
  /** Ports of the emulators' plain (unfaulted) endpoints; 0 (default) picks free ones. */
  readonly dynamodbPort?: number;
  readonly sqsPort?: number;
  readonly schedulerPort?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** When set, DynamoDB data and schedules live on disk there and survive a restart. */
  readonly dataDir?: string;
  /** The key file that signs local tokens (`npm run token` uses the same default). */
  readonly signingKeyFile?: string;
  /**
   * Extra variables for every function (e.g. `HERALD_RETRY_BASE_SECONDS`, `POWERTOOLS_LOG_LEVEL`),
   * applied over the ones the CDK would set; Lambda's reserved variables cannot be overridden.
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** Fault rules in force from the start (validated; `HERALD_FAULTS` of `npm start`). @default none */
  readonly faults?: readonly FaultRule[];
  /** Seed of the faults' random source, for repeatable runs. @default a random seed */
  readonly faultSeed?: number;
  /** Where the VAPID seed is kept. @default `vapid-secret.txt` beside the signing key file */
  readonly vapidSecretFile?: string;
  /** SES's maximum send rate, emails per second (`HERALD_SES_MAX_SEND_RATE`). @default 1000 */
  readonly sesMaxSendRate?: number;
  /** SES's quota per rolling 24 hours, emails; -1 is unlimited (`HERALD_SES_MAX_24_HOUR_SEND`). @default 1000000 */
  readonly sesMax24HourSend?: number;
  /** How the functions' log lines are printed: Powertools' JSON, or one readable line each. @default 'json' */
  readonly logFormat?: LogFormat;
  /**
   * File descriptors the functions' stdout and stderr go to (their logs, and their metrics as EMF
   * lines, which the stack reads either way). @default the process's own, 1 and 2
   */
  readonly functionOutput?: { readonly stdout: number; readonly stderr: number };
  /**
   * When each function's sandbox is first started: at its first invocation (`on-demand`, as on
   * Lambda, so a function never invoked takes no memory), or before the stack resolves
   * (`provisioned-concurrency`), which then fails naming a function that cannot be loaded.
   * @default 'on-demand'
   */
  readonly initialization?: InitializationType;
  /** The requests a tenant may make per second through the HTTP API (`herald:tenantRequestsPerSecond`); 0: no quota. @default cdk.json's */
  readonly tenantRequestsPerSecond?: number;
}

/** The AWS service endpoints of the local stack, for the AWS CLI or SDK. */
export interface LocalEndpoints {
  readonly dynamodb: string;
  readonly sqs: string;
  readonly ses: string;
  readonly scheduler: string;
  readonly apigatewaymanagementapi: string;
  readonly sns: string;
  /** The local Secrets Manager (the Telegram bot's token and the VAPID seed). */
  readonly secretsmanager: string;
  /** The local Web Push service (not AWS): subscriptions whose endpoint points here are delivered here. */
  readonly push: string;
  /** The local Telegram Bot API (not AWS: its base URL, as https://api.telegram.org). */
  readonly telegram: string;
}

export interface LocalStack {
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly sesUrl: string;
  /** The local Telegram Bot API's base URL. */
  readonly telegramUrl: string;
  /** The emulators' plain endpoints: what the AWS CLI and tests use to look inside, never faulted nor counted. */
  readonly endpoints: LocalEndpoints;
  /** The same emulators through the fault and call-count hook: what the functions' SDK clients use. */
  readonly faultableEndpoints: LocalEndpoints;
  /** The fault rules and counters that `/_local/faults` reads and writes. */
  readonly faults: FaultInjector;
  /** The AWS API calls the functions made, by service and operation (`/_local/calls`). */
  readonly apiCalls: ApiCallCounter;
  /** Items and index entries the local DynamoDB wrote since it started, by every caller (local/dynamodb/write-counter.ts). */
  dynamodbWrites(): StoreWrites;
  /** What the local push, SMS, Telegram and webhook providers received (`/_local/outbox`). */
  readonly outbox: Outbox;
  /** The local SNS: opt a phone number out, as its owner replying STOP would. */
  readonly sns: Pick<SnsEmulator, 'optOut'>;
  /** The local Telegram Bot API: upgrade a group to a supergroup, as its admin would. */
  readonly telegram: Pick<TelegramEmulator, 'migrateChat'>;
  /** The local Web Push service: new subscription endpoints on it. */
  readonly pushService: Pick<PushService, 'newEndpoint' | 'url'>;
  /** Physical names of the tables and queue URLs, by logical name. */
  readonly tableNames: Readonly<Record<string, string>>;
  readonly queueUrls: Readonly<Record<string, string>>;
  /** Every function, by logical name, each in its own sandbox. */
  readonly functions: Readonly<Record<string, LocalFunction>>;
  /** The claims the functions read the caller's tenant and roles from (`HERALD_TENANT_CLAIM`, `HERALD_ROLE_CLAIM`). */
  readonly claimNames: { readonly tenantClaim: string; readonly roleClaim: string };
  /** Runs DynamoDB's TTL deletion now (locally it otherwise runs every minute). */
  reapExpiredItems(now?: Date): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** Physical names locally: `herald-local-<name>`, as the CDK names them `herald-<stage>-<name>`. */
export function physicalName(name: string): string {
  return `herald-${LOCAL_STAGE}-${name}`;
}

/** The CreateTable request of a described table (also used by adapter tests against dynalite). */
export function createTableInput(table: TableDescription): CreateTableCommandInput {
  const attributes = new Map<string, 'S' | 'N'>();
  const keys = [table.partitionKey, table.sortKey, ...table.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  for (const key of keys) if (key) attributes.set(key.name, key.type);
  const keySchema = (pk: { name: string }, sk?: { name: string }): CreateTableCommandInput['KeySchema'] => [
    { AttributeName: pk.name, KeyType: 'HASH' },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: physicalName(table.name),
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: keySchema(table.partitionKey, table.sortKey),
    ...(table.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream } } : {}),
    ...(table.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: table.indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: projectionOf(index),
          })),
        }
      : {}),
  };
}

/** What DescribeTable shows of a table's global secondary indexes. */
export interface DescribedIndexes {
  readonly GlobalSecondaryIndexes?: readonly {
    readonly IndexName?: string;
    readonly IndexStatus?: string;
    readonly KeySchema?: readonly { readonly AttributeName?: string; readonly KeyType?: string }[];
    readonly Projection?: { readonly ProjectionType?: string; readonly NonKeyAttributes?: readonly string[] };
  }[];
}

/** One UpdateTable that brings a kept table's indexes towards the description, and why. */
export interface IndexChange {
  readonly kind: 'create' | 'delete';
  readonly index: string;
  readonly why: string;
}

/**
 * What brings an existing table's indexes (as DescribeTable shows them) to the description's, in
 * order, as a deploy of the stack would: an index missing is created; one keyed or projecting
 * otherwise is deleted, then created again (DynamoDB can change neither in place); one the
 * description no longer has is deleted. None when they agree.
 */
export function indexChanges(table: TableDescription, actual: DescribedIndexes | undefined): IndexChange[] {
  const found = new Map((actual?.GlobalSecondaryIndexes ?? []).map((index) => [index.IndexName, index]));
  // Partition key first, then sort key, as KeySchema lists them.
  const keysOf = (schema: readonly { readonly AttributeName?: string; readonly KeyType?: string }[]): string =>
    [...schema].sort((a, b) => (a.KeyType === 'HASH' ? -1 : b.KeyType === 'HASH' ? 1 : 0)).map((key) => key.AttributeName).join(', ');
  const attributes = (projection: { readonly NonKeyAttributes?: readonly string[] } | undefined): string => [...(projection?.NonKeyAttributes ?? [])].sort().join(', ');
  const describe = (type: string | undefined, list: string): string => `${type ?? 'ALL'}${list ? ` (${list})` : ''}`;
  const described = new Set(table.indexes.map((index) => index.name));
  const removed = [...found.keys()]
    .filter((name): name is string => name !== undefined && !described.has(name))
    .map((name): IndexChange => ({ kind: 'delete', index: name, why: 'the description has no such index' }));
  return removed.concat(
    table.indexes.flatMap((index): IndexChange[] => {
      const wanted = projectionOf(index);
      const kept = found.get(index.name);
      if (!kept) return [{ kind: 'create', index: index.name, why: 'it was missing' }];
      const wantedKeys = [index.partitionKey.name, ...(index.sortKey ? [index.sortKey.name] : [])].join(', ');
      // DescribeTable always lists an index's keys; indexes described without them are taken as keyed alike.
      const keptKeys = kept.KeySchema ? keysOf(kept.KeySchema) : wantedKeys;
      const has = kept.Projection;
      if (keptKeys === wantedKeys && has?.ProjectionType === wanted.ProjectionType && attributes(has) === attributes(wanted)) return [];
      const why =
        keptKeys !== wantedKeys
          ? `its keys were ${keptKeys}, the description's ${wantedKeys}`
          : `it projected ${describe(has?.ProjectionType, attributes(has))}, the description ${describe(wanted.ProjectionType, attributes(wanted))}`;
      return [
        { kind: 'delete', index: index.name, why },
        { kind: 'create', index: index.name, why },
      ];
    }),
  );
}

/** Polls DescribeTable until no index of the table is being created or deleted (every 20 ms, at most `timeoutMs`). @throws Error past it */
async function indexesSettled(describe: () => Promise<DescribedIndexes | undefined>, name: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const table = await describe();
    if (!(table?.GlobalSecondaryIndexes ?? []).some((index) => index.IndexStatus === 'CREATING' || index.IndexStatus === 'DELETING')) return;
    if (Date.now() > deadline) throw new Error(`table ${name}: its indexes were still changing after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Brings a table kept in a data directory to the description's indexes with UpdateTable, one
 * index at a time as DynamoDB requires, each backfilled from the table's items before the next
 * (`local/dynamodb/index-updates.ts`); says each change on stderr.
 */
async function convergeIndexes(client: DynamoDBClient, table: TableDescription): Promise<void> {
  const name = physicalName(table.name);
  const describe = async (): Promise<DescribedIndexes | undefined> => (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  // A stack stopped mid-change left an index CREATING or DELETING: the endpoint takes it up; let it finish first.
  await indexesSettled(describe, name);
  const input = createTableInput(table);
  for (const change of indexChanges(table, await describe())) {
    const started = Date.now();
    if (change.kind === 'delete') {
      await client.send(new UpdateTableCommand({ TableName: name, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: change.index } }] }));
    } else {
      const create = input.GlobalSecondaryIndexes?.find((index) => index.IndexName === change.index);
      const keys = new Set(create?.KeySchema?.map((key) => key.AttributeName));
      await client.send(
        new UpdateTableCommand({
          TableName: name,
          AttributeDefinitions: input.AttributeDefinitions?.filter((definition) => keys.has(definition.AttributeName)),
          GlobalSecondaryIndexUpdates: [{ Create: create }],
        }),
      );
    }
    await indexesSettled(describe, name);
    const message = `table ${name} in HERALD_DATA_DIR: index ${change.index} ${change.kind === 'create' ? 'created and backfilled from the items' : 'deleted'}, as a deploy would (${change.why}), in ${Date.now() - started} ms`;
    process.stderr.write(`${JSON.stringify({ level: 'INFO', source: 'local-dynamodb', message })}\n`);
  }
}

/**
 * Creates the described tables that are missing; resolves with the ARN of each table's stream, by
 * logical name. A table kept in a data directory has its indexes brought to the description's
 * first, as a deploy would (`convergeIndexes`).
 */
async function createTables(endpoint: string): Promise<Map<string, string>> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: localCredentials });
  const describe = async (TableName: string) => (await client.send(new DescribeTableCommand({ TableName }))).Table;
  const streamArns = new Map<string, string>();
  try {
    const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
    for (const table of tables) {
      const name = physicalName(table.name);
      // On disk, tables survive a restart: create only what is missing, and bring the indexes of a kept one to the description.
      let kept: Awaited<ReturnType<typeof describe>> | undefined;
      if (!existing.has(name)) await client.send(new CreateTableCommand(createTableInput(table)));
      else {
        kept = await describe(name);
        const settled = (kept?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
        if (!settled || indexChanges(table, kept).length > 0) {
          await convergeIndexes(client, table);
          kept = await describe(name);
        }
      }
      if (!table.stream) continue;
      let Table = kept ?? (await describe(name));
      // A data directory made before the table had its stream: enable it.
      if (!Table?.StreamSpecification?.StreamEnabled) {
        ({ TableDescription: Table } = await client.send(
          new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream } }),
        ));
      }
      if (Table?.LatestStreamArn) streamArns.set(table.name, Table.LatestStreamArn);
    }
  } finally {
    client.destroy();
  }
  return streamArns;
}

async function createQueues(sqs: SQSClient): Promise<Map<string, { url: string; arn: string }>> {
  const created = new Map<string, { url: string; arn: string }>();
  // Dead-letter queues first: a queue's redrive policy names its DLQ's ARN.
  const ordered = [...queues].sort((a, b) => Number(Boolean(a.deadLetter)) - Number(Boolean(b.deadLetter)));
  for (const queue of ordered) {
    const attributes: Record<string, string> = {
      VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(queue.retentionDays * 24 * 60 * 60),
    };
    if (queue.deadLetter) {
      const dlq = created.get(queue.deadLetter.queue);
      if (!dlq) throw new Error(`Queue ${queue.name} names an unknown dead-letter queue ${queue.deadLetter.queue}`);
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: queue.deadLetter.maxReceiveCount });
    }
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: physicalName(queue.name), Attributes: attributes }));
    if (!QueueUrl) throw new Error(`SQS returned no URL for ${queue.name}`);
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    created.set(queue.name, { url: QueueUrl, arn: Attributes?.QueueArn ?? '' });
  }
  return created;
}

function triggersOf<K extends FunctionDescription['triggers'][number]['kind']>(
  kind: K,
): { fn: FunctionDescription; trigger: Extract<FunctionDescription['triggers'][number], { kind: K }> }[] {
  return functions.flatMap((fn) =>
    fn.triggers
      .filter((t): t is Extract<FunctionDescription['triggers'][number], { kind: K }> => t.kind === kind)
      .map((trigger) => ({ fn, trigger })),
  );
}

function required(endpoint: string | undefined, service: string): string {
  if (endpoint === undefined) throw new Error(`The local ${service} emulator started without its faultable endpoint`);
  return endpoint;
}

/** Records a webhook a function posted (`webhookSentChannel`'s message) in the outbox. */
function recordWebhook(outbox: Outbox, message: unknown): void {
  const { url, headers, body, status } = message as { url: string; headers: Record<string, string>; body: string; status: number };
  let parsed: unknown = body;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Kept as the text it was.
  }
  // `payload` is for reading (JSON.parse rounds numbers beyond 2^53); `rawBody` is the text as
  // sent, byte for byte, which the signature covers.
  outbox.record({ channel: 'webhook', provider: 'webhook', to: url, body: { headers, payload: parsed, rawBody: body, status }, providerMessageId: headers['webhook-id'] ?? '' });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Starts every part of the local stack and the functions on top; `stop()` undoes it all. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  // Bad fault rules are refused before anything starts.
  const faults = createFaultInjector({
    ...(options.faultSeed !== undefined ? { seed: options.faultSeed } : {}),
    rules: parseFaultRules(options.faults ?? []),
  });
  // Every emulator has a plain endpoint and a faultable one, whose request handler counts the
  // functions' calls and fails them by the fault rules before serving them: one HTTP hop either way.
  // Each function signs with its physical name as access key id (local/lambda-runtime.ts).
  const functionBySigner = new Map(functions.map((fn) => [physicalName(fn.name), fn.name]));
  const apiCalls = new ApiCallCounter((accessKeyId) => functionBySigner.get(accessKeyId));
  const faultable = { hook: createCallHook(faults, apiCalls) };
  const outbox = new Outbox();
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    // Reverse order: the functions' triggers first, the data stores last.
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };

  try {
    if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
    // The emulators' data lives in this thread's heap: warn well before it reaches its limit.
    const heapWatch = watchHeap({ tablesInMemory: options.dataDir === undefined });
    stops.push(async () => heapWatch.stop());

    // DynamoDB: dynalite's store and actions in this process (local/dynamodb), in memory or on
    // disk, plus the transactions and the AWS limits dynalite lacks.
    const dynamo = await startDynamoDbEndpoint({
      host,
      region: LOCAL_REGION,
      port: options.dynamodbPort ?? 0,
      ...(options.dataDir ? { path: join(options.dataDir, 'dynamodb') } : {}),
      faultable,
    });
    stops.push(() => dynamo.stop());
    const dynamodbEndpoint = dynamo.endpoint;

    // SQS: fauxqs, whose SQLite store keeps messages in flight across a restart of a data dir.
    const sqsEmulator = await startSqsEmulator({
      host,
      port: options.sqsPort ?? 0,
      ...(options.dataDir ? { dataDir: join(options.dataDir, 'sqs') } : {}),
      faultable,
    });
    stops.push(() => sqsEmulator.stop());
    const sqsEndpoint = sqsEmulator.endpoint;

    // SES: aws-ses-v2-local, whose web page shows the sent mail. The mailbox simulator's bounces
    // and complaints go where an EventBridge rule puts them on AWS, once the queues exist.
    let publishEmailFeedback: (email: AcceptedEmail) => void = () => undefined;
    const ses = await startSesEmulator({
      host,
      port: options.sesPort ?? 8005,
      faultable,
      onAccepted: (email) => publishEmailFeedback(email),
      quota: {
        ...(options.sesMaxSendRate !== undefined ? { maxSendRate: options.sesMaxSendRate } : {}),
        ...(options.sesMax24HourSend !== undefined ? { max24HourSend: options.sesMax24HourSend } : {}),
      },
    });
    stops.push(() => ses.stop());
    const sesEndpoint = ses.endpoint;

    // SNS (SMS and mobile push) and Secrets Manager (the VAPID seed, the Telegram bot's token): our
    // emulators; the Web Push service; the Telegram Bot API.
    const sns = await startSnsEmulator({
      host,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      platformApplications: Object.values(localPlatformApplications),
      outbox,
      faultable,
    });
    stops.push(() => sns.stop());
    const vapidSecretName = physicalName('vapid');
    const vapidSecretFile = options.vapidSecretFile ?? join(dirname(options.signingKeyFile ?? DEFAULT_SIGNING_KEY_FILE), 'vapid-secret.txt');
    // The Telegram Bot API, faulted by its own rules; its bot's token lives in the local Secrets Manager.
    const telegram = await startTelegramEmulator({ host, port: options.telegramPort ?? 0, outbox, faults });
    stops.push(() => telegram.stop());
    const secrets = await startSecretsManagerEmulator({
      host,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      secrets: { [vapidSecretName]: await loadVapidSecret(vapidSecretFile), [physicalName('telegram-bot-token')]: localTelegramBotToken },
      faultable,
    });
    stops.push(() => secrets.stop());
    const pushService = await startPushService({ host, outbox, hook: faultable.hook });
    stops.push(() => pushService.stop());

    // EventBridge Scheduler: our emulator, which fires schedules into SQS.
    const scheduler = await startSchedulerEmulator({
      port: options.schedulerPort ?? 0,
      host,
      region: LOCAL_REGION,
      sqsEndpoint,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      faultable,
    });
    stops.push(() => scheduler.stop());

    const streamArns = await createTables(dynamodbEndpoint);
    const ttlReaper = createTtlReaper({
      endpoint: dynamodbEndpoint,
      region: LOCAL_REGION,
      credentials: localCredentials,
      tables: tables.map((description) => ({ description, physicalName: physicalName(description.name) })),
    });
    ttlReaper.start();
    stops.push(() => ttlReaper.stop());
    const sqs = withoutSdkLogger(new SQSClient({ endpoint: sqsEndpoint, region: LOCAL_REGION, credentials: localCredentials }));
    stops.push(async () => sqs.destroy());
    const queueRefs = await createQueues(sqs);
    const feedbackQueue = queues.find((queue) => queue.receivesEmailFeedback);
    const feedbackUrl = feedbackQueue ? queueRefs.get(feedbackQueue.name)?.url : undefined;
    publishEmailFeedback = (email) => {
      for (const event of feedbackEventsFor(email, { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID })) {
        if (!feedbackUrl) return;
        sqs.send(new SendMessageCommand({ QueueUrl: feedbackUrl, MessageBody: JSON.stringify(event) })).catch((error: unknown) => {
          process.stderr.write(`[ses] could not publish a ${String(event['detail-type'])} event: ${(error as Error).message}\n`);
        });
      }
    };
    const schedulerClient = new SchedulerClient({ endpoint: scheduler.endpoint, region: LOCAL_REGION, credentials: localCredentials });
    try {
      await schedulerClient.send(new CreateScheduleGroupCommand({ Name: scheduleGroupName }));
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
    } finally {
      schedulerClient.destroy();
    }

    // The gateways start before the functions are configured: their URLs are part of the config.
    let invokers: Record<string, LocalFunction> = {};
    const invoke = (name: string) => async (event: unknown): Promise<unknown> => {
      const invoker = invokers[name];
      if (!invoker) throw new Error(`Function ${name} is not loaded`);
      return invoker.invoke(event);
    };
    // The endpoints the functions call stop after the functions, and the functions after the
    // gateways that invoke them (closing a WebSocket runs $disconnect): the emulators' faultable
    // endpoints stop with the emulators, above; `@connections`, the WebSocket gateway's, here.
    let stopWebSocketGateway = async (): Promise<void> => undefined;
    stops.push(() => stopWebSocketGateway());
    stops.push(async () => {
      await Promise.all(Object.values(invokers).map((fn) => fn.stop()));
    });
    const keyOptions = options.signingKeyFile ? { keyFile: options.signingKeyFile } : {};
    const jwks = await publicJwks(keyOptions);

    // Filled in once every emulator and gateway listens, and once the functions are loaded.
    const published: { endpoints?: { raw: LocalEndpoints; faultable: LocalEndpoints }; rules?: RuleRunner; wsUrl?: string } = {};
    const emfMetrics = new EmfMetrics();
    // The claims the functions read the caller from: cdk.json's names under this stack's variables,
    // as localFunctionEnvironment layers them (`HERALD_ROLE_CLAIM=cognito:groups npm start`). The
    // console is told them, and its sign-in mints under them.
    const claims = claimsConfig({ ...claimsVariables(defaultDeploymentSettings().claims), ...options.environment });
    const controlApi = createControlApi({
      metrics: emfMetrics,
      faults,
      calls: apiCalls,
      dynamodbWrites: () => dynamo.writes(),
      endpoints: () => published.endpoints,
      rules: () => published.rules,
      ses: () => ses.sends(),
      outbox,
      mail: ses.mailbox,
      mintToken: ({ sub, tenant, roles }) =>
        signToken({ sub, tenant, role: roles, claimNames: { tenantClaim: claims.tenantClaim, roleClaim: claims.roleClaim }, issuer: LOCAL_JWT_ISSUER, audience: LOCAL_JWT_AUDIENCE }, keyOptions),
    });
    const consoleSite = await createConsoleSite(() => ({
      apiUrl: '',
      wsUrl: published.wsUrl ?? '',
      issuer: LOCAL_JWT_ISSUER,
      claims,
      local: true,
      mailViewerUrl: sesEndpoint,
    }));
    const localEndpoints = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/.well-known/jwks.json') {
        sendJson(res, 200, jwks);
        return true;
      }
      // A browser opening / gets the console; anything else asking for / gets the links as JSON.
      if (!(req.headers.accept ?? '').includes('text/html') && serveHomePage(req, res)) return true;
      return (await controlApi(req, res)) || consoleSite(req, res);
    };

    // Routed as the HTTP API routes them: paths ending in `/` on their greedy routes.
    const httpRoutes: HttpRoute[] = gatewayRoutes(triggersOf('http').flatMap(({ trigger }) => [...trigger.routes]));
    const httpFunction = triggersOf('http')[0]?.fn.name ?? 'api';
    const http: RunningHttpGateway = await startHttpGateway({
      port: options.httpPort ?? 3000,
      host,
      routes: httpRoutes,
      invoke: invoke(httpFunction),
      jwt: { issuer: LOCAL_JWT_ISSUER, audience: LOCAL_JWT_AUDIENCE, jwks },
      extraHandlers: localEndpoints,
    });
    stops.push(() => http.stop());

    const socketRoutes = Object.fromEntries(triggersOf('websocket').map(({ fn, trigger }) => [trigger.route, invoke(fn.name)]));
    const authorizer = triggersOf('websocket-authorizer')[0];
    const ws = await startWebSocketGateway({
      port: options.wsPort ?? 3001,
      host,
      routes: socketRoutes,
      routeSelectionExpression: websocketRouteSelectionExpression,
      region: LOCAL_REGION,
      ...(authorizer
        ? { authorizer: invoke(authorizer.fn.name), authorizerIdentitySource: authorizer.trigger.identitySource }
        : {}),
      faultable,
    });
    stopWebSocketGateway = () => ws.stop();
    published.wsUrl = ws.url;
    stops.push(() => ws.closeSockets());

    const endpoints: LocalEndpoints = {
      dynamodb: dynamodbEndpoint,
      sqs: sqsEndpoint,
      ses: sesEndpoint,
      scheduler: scheduler.endpoint,
      apigatewaymanagementapi: ws.callbackUrl,
      sns: sns.endpoint,
      secretsmanager: secrets.endpoint,
      push: pushService.url,
      telegram: telegram.url,
    };
    // The functions reach every service through its faultable endpoint; the stack's own clients
    // above and below (table and queue creation, the event-source mapping, the scheduler's firing,
    // the TTL reaper) use the plain ones.
    const faultableEndpoints: LocalEndpoints = {
      dynamodb: required(dynamo.faultableEndpoint, 'dynamodb'),
      sqs: required(sqsEmulator.faultableEndpoint, 'sqs'),
      ses: required(ses.faultableEndpoint, 'ses'),
      scheduler: required(scheduler.faultableEndpoint, 'scheduler'),
      apigatewaymanagementapi: required(ws.faultableCallbackUrl, 'apigatewaymanagementapi'),
      sns: required(sns.faultableEndpoint, 'sns'),
      secretsmanager: required(secrets.faultableEndpoint, 'secretsmanager'),
      // One endpoint: only the functions push, and the service itself counts and faults each push.
      push: pushService.url,
      // Not behind the AWS call hook: the Telegram emulator applies its fault rules itself.
      telegram: telegram.url,
    };
    published.endpoints = { raw: endpoints, faultable: faultableEndpoints };

    // Each function sees the variables the CDK sets for it, with local values, and nothing else.
    const loaded = await startFunctionWorkers(functions, {
      sources: localEnvironmentSources({
        physicalName,
        queues: queueRefs,
        websocketCallbackUrl: faultableEndpoints.apigatewaymanagementapi,
        jwksUrl: `${http.url}/.well-known/jwks.json`,
        vapidSecretArn: secrets.arnOf(vapidSecretName),
        telegram: { apiUrl: telegram.url, tokenSecret: secrets.arnOf(physicalName('telegram-bot-token')) },
        ...(options.tenantRequestsPerSecond !== undefined ? { tenantRequestsPerSecond: options.tenantRequestsPerSecond } : {}),
      }),
      // Each webhook a function posted, as the outbox shows it.
      onPublished: (channel, message) => {
        if (channel === webhookSentChannel.name) recordWebhook(outbox, message);
      },
      endpoints: faultableEndpoints,
      region: LOCAL_REGION,
      ...(options.environment ? { overrides: options.environment } : {}),
      onMetrics: (line) => emfMetrics.read(line),
      ...(options.logFormat ? { logFormat: options.logFormat } : {}),
      ...(options.functionOutput ? { output: options.functionOutput } : {}),
      ...(options.initialization ? { initialization: options.initialization } : {}),
    });
    invokers = loaded;

    for (const { fn, trigger } of triggersOf('queue')) {
      const queue = queueRefs.get(trigger.queue);
      if (!queue) throw new Error(`Function ${fn.name} is triggered by unknown queue ${trigger.queue}`);
      const mapping = createEventSourceMapping({
        sqs,
        queueUrl: queue.url,
        queueArn: queue.arn,
        region: LOCAL_REGION,
        batchSize: trigger.batchSize,
        maxBatchingWindowSeconds: trigger.maxBatchingWindowSeconds,
        concurrency: trigger.maximumConcurrency,
        invoke: invoke(fn.name),
      });
      mapping.start();
      stops.push(() => mapping.stop());
    }

    // The Lambda service reads a stream through the Streams API; so does each mapping, on the plain endpoint.
    const streamsClient = withoutSdkLogger(new DynamoDBStreamsClient({ endpoint: dynamodbEndpoint, region: LOCAL_REGION, credentials: localCredentials }));
    stops.push(async () => streamsClient.destroy());
    for (const { fn, trigger } of triggersOf('stream')) {
      const streamArn = streamArns.get(trigger.table);
      if (!streamArn) throw new Error(`Function ${fn.name} is triggered by the stream of ${trigger.table}, which declares none`);
      const destination = queueRefs.get(trigger.onFailure);
      if (!destination) throw new Error(`Function ${fn.name} sends its failed batches to unknown queue ${trigger.onFailure}`);
      const mapping = createStreamEventSourceMapping({
        streams: streamsClient,
        streamArn,
        functionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${physicalName(fn.name)}`,
        batchSize: trigger.batchSize,
        maxBatchingWindowSeconds: trigger.maxBatchingWindowSeconds,
        startingPosition: trigger.startingPosition,
        reportBatchItemFailures: trigger.reportBatchItemFailures,
        bisectBatchOnFunctionError: trigger.bisectBatchOnFunctionError,
        maximumRetryAttempts: trigger.maximumRetryAttempts,
        invoke: invoke(fn.name),
        onFailure: async (record) => {
          await sqs.send(new SendMessageCommand({ QueueUrl: destination.url, MessageBody: JSON.stringify(record) }));
        },
        subscribe: (wake) =>
          dynamo.onStreamRecords((arn) => {
            if (arn === streamArn) wake();
          }),
      });
      mapping.start();
      stops.push(() => mapping.stop());
    }

    const ruleTargets = triggersOf('rule').map(({ fn, trigger }) => ({
      name: trigger.ruleName,
      schedule: trigger.schedule,
      invoke: invoke(fn.name),
    }));
    const rules = createRuleTimers(ruleTargets, { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID });
    rules.start();
    stops.push(() => rules.stop());
    published.rules = { names: ruleTargets.map((target) => target.name), run: (name) => rules.runNow(name) };

    return {
      httpUrl: http.url,
      wsUrl: ws.url,
      sesUrl: sesEndpoint,
      telegramUrl: telegram.url,
      endpoints,
      faultableEndpoints,
      faults,
      apiCalls,
      dynamodbWrites: () => dynamo.writes(),
      outbox,
      sns: { optOut: (phoneNumber) => sns.optOut(phoneNumber) },
      telegram: { migrateChat: (chatId) => telegram.migrateChat(chatId) },
      pushService: { url: pushService.url, newEndpoint: () => pushService.newEndpoint() },
      tableNames: Object.fromEntries(tables.map((t) => [t.name, physicalName(t.name)])),
      queueUrls: Object.fromEntries([...queueRefs].map(([name, ref]) => [name, ref.url])),
      functions: loaded,
      claimNames: { tenantClaim: claims.tenantClaim, roleClaim: claims.roleClaim },
      reapExpiredItems: (now) => ttlReaper.reapNow(now),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
