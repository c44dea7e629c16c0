import path from 'node:path';
import { ArnFormat, AssetHashType, DockerImage, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ILocalBundling } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFunctionConstruct, Runtime, StartingPosition, Tracing } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { buildSync } from 'esbuild';
import type { BuildOptions } from 'esbuild';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { RetryPolicy } from '../../shared/domain/retry-policy.ts';
import type { FunctionDescription } from '../app-description.ts';
import {
  connectionVariables,
  deliveryVariables,
  selfSendVariables,
  claimsVariables,
  requestQuotaVariables,
  emailVariables,
  pushVariables,
  queueVariables,
  retryPolicyVariables,
  scheduleVariables,
  sendBudgetVariables,
  sweepVariables,
  tableVariables,
  telegramVariables,
  tokenVerificationVariables,
  webhookVariables,
} from '../function-environment.ts';
import type { TokenVerificationSettings, Variables } from '../function-environment.ts';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ClaimsSettings, DeliverySettings, PushSettings, SelfSendSettings, SweepSettings } from '../stacks/herald-settings.ts';
import type { HeraldQueue } from './herald-queues.ts';
import type { HeraldScheduler } from './herald-scheduler.ts';
import type { HeraldTable } from './herald-tables.ts';
import type { HeraldVapidSecret } from './herald-vapid-secret.ts';
import { acknowledgeWildcardResource } from './nag-acknowledgements.ts';
import { grantTableData } from './table-grants.ts';

/** The repository root: the description's entry paths are relative to it. */
export const repositoryRoot: string = path.resolve(import.meta.dirname, '../..');

/**
 * Shim for CommonJS dependencies bundled into an ES module: esbuild keeps their `require()` of
 * Node built-ins, and ESM has no `require`. Aliased so it cannot clash with a bundled import.
 */
const esmRequireBanner =
  "import { createRequire as heraldCreateRequire } from 'node:module'; const require = heraldCreateRequire(import.meta.url);";

/**
 * The credential providers of the SDK's default chain that only a developer machine uses (a
 * profile, SSO, a credential process, a web-identity token file). The chain imports each one
 * lazily, only when every source before it failed; on Lambda the first one, the execution role's
 * credentials in the environment, always answers, so these are never reached. Left out of the
 * bundle they take ~115 KB (the STS, SSO and sign-in clients they carry) out of every function.
 * The container and instance-metadata providers, which a Lambda without environment credentials
 * would use, stay in.
 */
export const unreachedCredentialProviders: readonly string[] = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
];

/**
 * The SDK's event-stream codec (`@smithy/core/event-streams`, ~15 KB): the protocols import it
 * lazily, only to serialize or read an operation's event stream (S3 SelectObjectContent, Bedrock's
 * and Transcribe's streaming calls). None of the clients Herald uses (DynamoDB, SQS, Scheduler, SES
 * v1 and v2, Secrets Manager, the API Gateway Management API) has such an operation, so it is
 * never reached. A client with one would need it back in the bundle.
 */
export const unreachedSdkModules: readonly string[] = ['@smithy/core/event-streams'];

/**
 * bowser, the browser detection the SDK's browser user agent imports (`import("bowser")` in
 * `createUserAgentStringParsingProvider`, ~34 KB). Node's clients never call that function and
 * esbuild drops it, but with code splitting it still makes a chunk of the dynamic import it held;
 * external, the chunk is not made. Nothing in a Node bundle imports it.
 */
export const browserOnlyModules: readonly string[] = ['bowser'];

/**
 * Where the bundles take `node:http` from (lib/constructs/node-http.cjs, the same module as
 * CommonJS): an ES module import of `node:http` loads undici at cold start (the module's ESM facade
 * reads its lazy `WebSocket` getters), which costs 10-30 ms of every function's init.
 */
export const nodeHttpShim: string = path.join(import.meta.dirname, 'node-http.cjs');

/**
 * Where the bundles take `@aws-sdk/endpoint-cache` from (lib/constructs/endpoint-cache.mjs): its
 * `EndpointCache` on a `Map` instead of mnemonist's LRU cache, ~7 KB less in every bundle with the
 * DynamoDB client, which makes one for endpoint discovery whether or not it is used (Herald does
 * not use it). test/unit/lib/endpoint-cache.test.ts holds the two to the same answers.
 */
export const endpointCacheShim: string = path.join(import.meta.dirname, 'endpoint-cache.mjs');

/**
 * How every function is bundled (esbuild, locally, no Docker): an ES module entry `index.mjs`,
 * minified, with source maps (without their sources), and code splitting: what a handler imports
 * with `import()` goes into chunks of its own, beside `index.mjs` in the deployment package, and
 * is loaded on the first call that reaches it instead of at the cold start (the `api` function's
 * route groups, functions/api/routes.ts). In one file, esbuild would have to wrap what a lazy
 * import reaches in init functions and keep every export of it (the AWS SDK clients' whole
 * command lists). `npm run bench -- bundles` bundles through {@link HeraldFunction} itself, so it
 * measures exactly this.
 */
export const heraldBundling: Readonly<BuildOptions> = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  splitting: true,
  // Lambda's handler setting names the entry's file: `index.<handler>`.
  entryNames: 'index',
  chunkNames: 'chunk-[hash]',
  outExtension: { '.js': '.mjs' },
  mainFields: ['module', 'main'],
  banner: { js: esmRequireBanner },
  minify: true,
  sourcemap: true,
  // Mappings are enough for stack traces; embedding the sources only grows the bundle.
  sourcesContent: false,
  // The SDK is bundled: ship the version the tests and the local stack ran, not whatever the
  // runtime carries (a bundled SDK also starts faster than the runtime's: no module resolution).
  external: [...unreachedCredentialProviders, ...unreachedSdkModules, ...browserOnlyModules],
  alias: { 'node:http': nodeHttpShim, http: nodeHttpShim, '@aws-sdk/endpoint-cache': endpointCacheShim },
  logLevel: 'warning',
};

/**
 * esbuild with {@link heraldBundling}, run in this process when the CDK stages a function's asset
 * (`cdk synth`). The staging caches a bundle by its source directory and its bundling options, of
 * which it reads the data, not the functions: this object's fields (the entry, the options) are
 * what tell one function's bundle from another's.
 */
class LocalEsbuild implements ILocalBundling {
  readonly options: Readonly<BuildOptions> = heraldBundling;
  readonly entry: string;
  readonly projectRoot: string;

  /** `entry` is relative to `projectRoot`, whose node_modules resolve its imports. */
  constructor(entry: string, projectRoot: string) {
    this.entry = entry;
    this.projectRoot = projectRoot;
  }

  /** Writes `index.mjs`, its chunks and their source maps into `outputDir`. @throws esbuild's error when the entry does not build */
  tryBundle(outputDir: string): boolean {
    buildSync({ ...this.options, entryPoints: [path.join(this.projectRoot, this.entry)], outdir: outputDir, absWorkingDir: this.projectRoot });
    return true;
  }
}

/**
 * The deployment package of the function whose handler module is `entry` (relative to
 * `projectRoot`): `index.mjs` and its chunks, bundled locally by {@link LocalEsbuild}, named by the
 * hash of what it holds, as the CDK's `NodejsFunction` names its bundles.
 */
export function bundledCode(entry: string, projectRoot: string): Code {
  return Code.fromAsset(projectRoot, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: the local bundling always answers (it throws rather than fall back to Docker).
      image: DockerImage.fromRegistry('herald/no-docker-bundling'),
      local: new LocalEsbuild(entry, projectRoot),
    },
  });
}

/** The functions' `NODE_OPTIONS`: stack traces point at the TypeScript sources instead of minified bundle offsets. */
export const heraldNodeOptions = '--enable-source-maps';

/** Properties of {@link HeraldFunction}. */
export interface HeraldFunctionProps {
  /** The function's entry in lib/app-description.ts: name, entry, handler, memory, timeout. */
  readonly definition: FunctionDescription;
  /**
   * Prefix of the physical function name (`<prefix>-<name>`) and of its rules' names.
   * @default 'herald'
   */
  readonly namePrefix?: string;
  /**
   * Directory the definition's `entry` is relative to, whose node_modules hold what it imports.
   * @default the repository root
   */
  readonly projectRoot?: string;
  /**
   * How long the function's logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Environment variables besides the ones the `bind*` methods set.
   * @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
}

/** How a function consumes a queue (mirrors the description's `queue` trigger). */
export interface QueueConsumerOptions {
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  /** The mapping's `ScalingConfig.MaximumConcurrency` (2 to 1,000). */
  readonly maximumConcurrency: number;
}

/** How a function consumes a table's stream (mirrors the description's `stream` trigger). */
export interface StreamConsumerOptions {
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly reportBatchItemFailures: boolean;
  readonly bisectBatchOnFunctionError: boolean;
  /** Retries of a failing batch before it is given up (0 to 10,000). */
  readonly maximumRetryAttempts: number;
}

export type { TokenVerificationSettings } from '../function-environment.ts';

/**
 * Herald's one Lambda function construct: Node.js 24 on arm64, X-Ray tracing, ESM bundled
 * locally by the project's esbuild with source maps, a log group with retention, and `bind*`
 * methods that grant IAM *and* set the matching environment variable in one call, so a
 * permission never comes without the variable that makes it usable (or the reverse). Which
 * variables each grant sets is lib/function-environment.ts's, which the local stack reads too.
 */
export class HeraldFunction extends LambdaFunctionConstruct {
  /** The description this function was built from. */
  readonly definition: FunctionDescription;
  private readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: HeraldFunctionProps) {
    const { definition } = props;
    const namePrefix = props.namePrefix ?? 'herald';
    const projectRoot = props.projectRoot ?? repositoryRoot;
    const functionName = `${namePrefix}-${definition.name}`;
    // The log group is created here, not left to Lambda, so that it has a retention and goes
    // with the stack; it must exist before super(), hence the parent scope.
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role, writing to its own log group only (the managed AWSLambdaBasicExecutionRole
    // lets a function write to any log group of the account).
    const role = new Role(scope, `${id}Role`, {
      description: `Runs ${functionName}`,
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: {
        Logs: new PolicyDocument({
          statements: [new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] })],
        }),
      },
    });
    super(scope, id, {
      functionName,
      description: `Herald ${definition.name} (${definition.entry})`,
      code: bundledCode(definition.entry, projectRoot),
      handler: `index.${definition.handler}`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: definition.memoryMb,
      timeout: Duration.seconds(definition.timeoutSeconds),
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      reservedConcurrentExecutions: definition.reservedConcurrency,
      environment: {
        NODE_OPTIONS: heraldNodeOptions,
        ...props.environment,
      },
    });
    this.definition = definition;
    this.namePrefix = namePrefix;
    // test/infra/cdk-nag.test.ts proves no other action is granted on `*`.
    acknowledgeWildcardResource(
      role,
      '*',
      'Only actions that take no resource are granted on *: X-Ray PutTraceSegments and PutTelemetryRecords (active tracing), SES GetSendQuota and GetAccount (bindEmail), DynamoDB ListStreams (a stream event source), SNS Publish and CheckIfPhoneNumberIsOptedOut to phone numbers (bindSms)',
    );
  }

  /** Grants `access` on the table (and its described indexes) and tells the function its name. */
  bindTable(table: HeraldTable, access: 'read' | 'readWrite'): this {
    grantTableData(table, this, access);
    this.setVariables(tableVariables(table.description, table.table.tableName));
    return this;
  }

  /** Lets the function send to the queue and tells it the queue's URL and ARN. */
  bindQueue(queue: HeraldQueue): this {
    queue.queue.grantSendMessages(this);
    this.setQueueVariables(queue);
    return this;
  }

  /**
   * Lets the function read the depth of each dead-letter queue and move the messages of those with
   * a destination back there (receive and delete on the DLQ, send to the destination), and tells
   * it the URL and ARN of each. A DLQ without a destination is only read (GetQueueAttributes).
   */
  bindDeadLetterQueues(deadLetters: readonly { readonly queue: HeraldQueue; readonly redriveTo?: HeraldQueue }[]): this {
    for (const { queue, redriveTo } of deadLetters) {
      if (redriveTo) {
        queue.queue.grantConsumeMessages(this);
        redriveTo.queue.grantSendMessages(this);
        this.setQueueVariables(redriveTo);
      } else {
        queue.queue.grant(this, 'sqs:GetQueueAttributes');
      }
      this.setQueueVariables(queue);
    }
    return this;
  }

  /**
   * Subscribes the function to the queue (event source mapping) and tells it the queue's URL,
   * which it needs to defer a message with ChangeMessageVisibility.
   */
  consumeQueue(queue: HeraldQueue, options: QueueConsumerOptions): this {
    // Lambda refuses a mapping whose queue would hand a message to a second worker mid-run.
    if (queue.description.visibilityTimeoutSeconds < this.definition.timeoutSeconds) {
      throw new Error(
        `Queue ${queue.description.name} hides messages for ${queue.description.visibilityTimeoutSeconds} s, less than the ${this.definition.timeoutSeconds} s timeout of ${this.definition.name}`,
      );
    }
    // Reserved below the mapping's concurrency, Lambda would throttle the batches the mapping starts.
    const reserved = this.definition.reservedConcurrency;
    if (reserved !== undefined && reserved < options.maximumConcurrency) {
      throw new Error(`${this.definition.name} reserves ${reserved} concurrent executions, fewer than the ${options.maximumConcurrency} batches its ${queue.description.name} mapping runs at once`);
    }
    this.addEventSource(
      new SqsEventSource(queue.queue, {
        batchSize: options.batchSize,
        maxBatchingWindow: Duration.seconds(options.maxBatchingWindowSeconds),
        reportBatchItemFailures: options.reportBatchItemFailures,
        maxConcurrency: options.maximumConcurrency,
      }),
    );
    // The event source's consume grant includes sqs:ChangeMessageVisibility on this queue, which
    // retry-with-backoff needs; the URL variable below is what lets the handler call it.
    this.setQueueVariables(queue);
    return this;
  }

  /**
   * Subscribes the function to the table's stream (event source mapping): the records in
   * batches, partial batch failures, bisection and retries as described, and a batch given up
   * described on `onFailure`. The event source grants the stream reads (`grantStreamRead`) and the
   * send to `onFailure`; the function learns no variable: Lambda, not the handler, reads the
   * stream and sends to the queue.
   */
  consumeStream(table: HeraldTable, onFailure: HeraldQueue, options: StreamConsumerOptions): this {
    if (!table.description.stream) throw new Error(`${this.definition.name} reads the stream of ${table.description.name}, which declares none`);
    this.addEventSource(
      new DynamoEventSource(table.table, {
        startingPosition: StartingPosition[options.startingPosition],
        batchSize: options.batchSize,
        maxBatchingWindow: Duration.seconds(options.maxBatchingWindowSeconds),
        reportBatchItemFailures: options.reportBatchItemFailures,
        bisectBatchOnError: options.bisectBatchOnFunctionError,
        retryAttempts: options.maximumRetryAttempts,
        onFailure: new SqsDlq(onFailure.queue),
      }),
    );
    return this;
  }

  /**
   * Lets the function manage schedules in the Herald group (and pass them the group's role), and
   * tells it everything CreateSchedule needs: group, role, target queue and dead-letter queue.
   */
  bindScheduler(scheduler: HeraldScheduler, options: { readonly leadSeconds: number; readonly firesPerSecond: number }): this {
    this.grantManageSchedules(scheduler);
    this.setScheduleVariables(scheduler, scheduler.targetQueue, scheduler.deadLetterQueue, options);
    return this;
  }

  /**
   * Lets the function manage the one schedule of each broadcast (the group's schedules, passing the
   * group's role) and send a broadcast due now straight to the fan-out queue, and tells it what
   * CreateSchedule needs: group, role, lead time, the fan-out queue and its dead-letter queue.
   */
  bindBroadcastScheduler(scheduler: HeraldScheduler, options: { readonly leadSeconds: number; readonly firesPerSecond: number }): this {
    const broadcasts = scheduler.broadcasts;
    if (!broadcasts) throw new Error(`${this.definition.name} schedules broadcasts, but the scheduler has no broadcast queues`);
    this.grantManageSchedules(scheduler);
    broadcasts.targetQueue.queue.grantSendMessages(this);
    // The dead-letter queue's ARN only, for the schedules' DeadLetterConfig: the function never sends there.
    this.setScheduleVariables(scheduler, broadcasts.targetQueue, broadcasts.deadLetterQueue, options);
    return this;
  }

  /**
   * Lets the function send email through SES, naming the configuration set that reports bounces
   * and complaints back, and read the account's sending status; tells it the sender address and
   * the set.
   */
  bindEmail(options: { readonly from: string; readonly configurationSet: { readonly name: string; readonly arn: string } }): this {
    const identities = Stack.of(this).formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    // Identities of this account and region only; the sandbox also checks recipient identities.
    // A send that names a configuration set is authorized on the set too.
    this.addToRolePolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['ses:SendEmail', 'ses:SendRawEmail'], resources: [identities, options.configurationSet.arn] }),
    );
    this.acknowledgeOnRole(
      identities,
      "SES authorizes a send on the sender's identity and, in the sandbox, on each recipient's: recipients are any address, so any identity of this account and region",
    );
    // The account's maximum send rate is the default send budget, and its sandbox status is
    // reported in /v1/metrics (GetSendQuota and GetAccount have no resource).
    this.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['ses:GetSendQuota', 'ses:GetAccount'], resources: ['*'] }));
    this.setVariables(emailVariables(options.from, options.configurationSet.name));
    return this;
  }

  /**
   * Lets the function send SMS through SNS: `Publish` and `CheckIfPhoneNumberIsOptedOut`, neither
   * of which names a resource for a phone number (SNS's service authorization reference), so both
   * are granted on `*`; no variable is needed.
   */
  bindSms(): this {
    this.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['sns:Publish', 'sns:CheckIfPhoneNumberIsOptedOut'], resources: ['*'] }));
    return this;
  }

  /**
   * Lets the function push (`deliver`: publish to the devices' SNS endpoints and delete disabled
   * ones; `register`: create, read, take over and delete endpoints of the platform applications) and read the VAPID
   * secret, and tells it the secret, the VAPID contact and the applications.
   */
  bindPush(secret: HeraldVapidSecret, settings: PushSettings, options: { readonly role: 'deliver' | 'register' | 'both'; readonly emailFrom: string }): this {
    secret.grantRead(this);
    const applications = [settings.fcmApplicationArn, settings.apnsApplicationArn].filter((arn): arn is string => arn !== undefined);
    // An endpoint's ARN is its application's with `endpoint/` for `app/` and an id SNS makes.
    const endpoints = applications.map((arn) => `${arn.replace(':app/', ':endpoint/')}/*`);
    // Registering reads an endpoint that already existed and takes it over (enabled, for the new user).
    const registering = ['sns:DeleteEndpoint', 'sns:GetEndpointAttributes', 'sns:SetEndpointAttributes'];
    const actions = {
      deliver: ['sns:Publish', 'sns:DeleteEndpoint'],
      register: registering,
      both: ['sns:Publish', ...registering],
    }[options.role];
    if (endpoints.length > 0) {
      this.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions, resources: endpoints }));
      for (const endpoint of endpoints) {
        this.acknowledgeOnRole(endpoint, 'SNS names each device endpoint when a user registers it: the grant is the endpoints of the configured platform applications only');
      }
      if (options.role !== 'deliver') {
        this.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['sns:CreatePlatformEndpoint'], resources: applications }));
      }
    }
    this.setVariables(pushVariables(settings, secret.secret.secretArn, options.emailFrom));
    return this;
  }

  /**
   * Lets the function post to (and drop) the stage's WebSocket connections and tells it the
   * Management API endpoint of that stage.
   */
  bindConnections(stage: WebSocketStage): this {
    stage.grantManagementApiAccess(this);
    this.acknowledgeOnRole(
      Stack.of(this).formatArn({
        service: 'execute-api',
        resource: stage.api.apiId,
        resourceName: `${stage.stageName}/*/@connections/*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
      "Connection ids are made by API Gateway as clients connect: the grant is every connection of this API's stage, through the Management API only",
    );
    this.setVariables(connectionVariables(stage.callbackUrl));
    return this;
  }

  /**
   * Lets the function read the Telegram bot's token (GetSecretValue on that one secret, nothing
   * else) and tells it the secret's ARN and the Bot API's URL.
   */
  bindTelegram(token: ISecret, options: { readonly apiUrl: string }): this {
    token.grantRead(this);
    this.setVariables(telegramVariables({ tokenSecret: token.secretArn, apiUrl: options.apiUrl }));
    return this;
  }

  /** Tells a function that posts webhooks which URLs it may reach (no IAM: on AWS, public https only). */
  bindWebhooks(targets: 'public-https' | 'any'): this {
    this.setVariables(webhookVariables(targets));
    return this;
  }

  /** Tells a function that verifies JWTs itself (no IAM needed) whose tokens to accept. */
  bindTokenVerification(settings: TokenVerificationSettings): this {
    this.setVariables(tokenVerificationVariables(settings));
    return this;
  }

  /** Tells a function that retries deliveries the retry policy (no IAM: plain settings). */
  bindRetryPolicy(policy: RetryPolicy): this {
    this.setVariables(retryPolicyVariables(policy));
    return this;
  }

  /** Tells a delivering function the engine's hold (no IAM: plain settings). */
  bindDeliverySettings(settings: DeliverySettings): this {
    this.setVariables(deliveryVariables(settings));
    return this;
  }

  /**
   * Tells a function that sends through SES or SNS SMS the providers' send budgets the deployment
   * sets (no IAM: the budgets are kept in the rate-limits table it is granted, and SES's own quota
   * is read with the e-mail grant).
   */
  bindSendBudgets(settings: DeliverySettings): this {
    this.setVariables(sendBudgetVariables(settings));
    return this;
  }

  /** Tells a function what plain users may send themselves per hour (no IAM: plain settings). */
  bindSelfSendSettings(settings: SelfSendSettings): this {
    this.setVariables(selfSendVariables(settings));
    return this;
  }

  /** Tells a function that reads token claims which claims name the tenant and roles (no IAM: plain settings). */
  bindClaimsSettings(settings: ClaimsSettings): this {
    this.setVariables(claimsVariables(settings));
    return this;
  }

  /** Tells the HTTP API function the per-tenant request quota (no IAM: it counts in the rate-limits table it was granted). */
  bindRequestQuota(tenantRequestsPerSecond: number): this {
    this.setVariables(requestQuotaVariables(tenantRequestsPerSecond));
    return this;
  }

  /** Tells a sweep function its bounds (no IAM: plain settings). */
  bindSweepSettings(settings: SweepSettings): this {
    this.setVariables(sweepVariables(settings));
    return this;
  }

  /** Runs the function on an EventBridge schedule (`rate(...)` or `cron(...)`). */
  runOnSchedule(ruleName: string, expression: string): Rule {
    return new Rule(this, `Rule-${ruleName}`, {
      ruleName: `${this.namePrefix}-${ruleName}`,
      description: `Runs ${this.definition.name} on ${expression}`,
      schedule: Schedule.expression(expression),
      targets: [new LambdaFunction(this)],
    });
  }

  // The group's schedules are named at run time after the notifications they carry.
  private grantManageSchedules(scheduler: HeraldScheduler): void {
    scheduler.grantManageSchedules(this);
    this.acknowledgeOnRole(
      scheduler.schedulesArn,
      'Schedules are created and named at run time, one per notification instant: the grant is every schedule of the Herald group of this stage, and no other group',
    );
  }

  // A wildcard finding of this function's role (its default policy included), for that resource only.
  private acknowledgeOnRole(resource: string, reason: string): void {
    if (!this.role) throw new Error(`${this.definition.name} has no role`);
    acknowledgeWildcardResource(this.role, resource, reason);
  }

  private setQueueVariables(queue: HeraldQueue): void {
    this.setVariables(queueVariables(queue.description, { url: queue.queue.queueUrl, arn: queue.queue.queueArn }));
  }

  private setScheduleVariables(
    scheduler: HeraldScheduler,
    target: HeraldQueue,
    deadLetter: HeraldQueue,
    timing: { readonly leadSeconds: number; readonly firesPerSecond: number },
  ): void {
    this.setVariables(
      scheduleVariables({
        groupName: scheduler.groupName,
        roleArn: scheduler.role.roleArn,
        leadSeconds: timing.leadSeconds,
        firesPerSecond: timing.firesPerSecond,
        target: { description: target.description, location: { url: target.queue.queueUrl, arn: target.queue.queueArn } },
        deadLetter: { description: deadLetter.description, arn: deadLetter.queue.queueArn },
      }),
    );
  }

  private setVariables(variables: Variables): void {
    for (const [name, value] of Object.entries(variables)) this.addEnvironment(name, value);
  }
}
