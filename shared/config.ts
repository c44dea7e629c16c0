/**
 * Configuration, parsed once from the environment with zod (its tree-shakable `zod/mini`). No other product file reads
 * `process.env`: a missing or malformed variable fails at cold start, naming the variable.
 *
 * Each section is parsed on first use, so a function only needs the variables of the sections
 * it touches (the WebSocket authorizer needs no table names, for instance).
 */
import * as z from './zod-mini.ts';
import { deadLetterQueues, queueArnVariable, queueUrlVariable, tableVariable } from '../lib/app-description.ts';
import type { QueueName, TableName } from '../lib/app-description.ts';
import { defaultRetryPolicy } from './domain/retry-policy.ts';
import type { RetryPolicy } from './domain/retry-policy.ts';

/** Thrown at cold start when the environment lacks or garbles a variable. */
export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

// One constant per variable, so that a bundle carries the names of the variables its
// functions read and not the others (esbuild drops an unused constant, not an unused property).
const scheduleGroupVariable = 'HERALD_SCHEDULE_GROUP';
const schedulerRoleArnVariable = 'HERALD_SCHEDULER_ROLE_ARN';
const schedulerLeadSecondsVariable = 'HERALD_SCHEDULER_LEAD_SECONDS';
const schedulerFiresPerSecondVariable = 'HERALD_SCHEDULER_FIRES_PER_SECOND';
const emailFromVariable = 'HERALD_EMAIL_FROM';
const websocketCallbackUrlVariable = 'HERALD_WS_CALLBACK_URL';
const jwtIssuerVariable = 'HERALD_JWT_ISSUER';
const jwtAudienceVariable = 'HERALD_JWT_AUDIENCE';
const jwksUrlVariable = 'HERALD_JWKS_URL';
const sentRetentionDaysVariable = 'HERALD_SENT_RETENTION_DAYS';
const leaseSecondsVariable = 'HERALD_LEASE_SECONDS';
const retryBaseSecondsVariable = 'HERALD_RETRY_BASE_SECONDS';
const retryFactorVariable = 'HERALD_RETRY_FACTOR';
const retryMaxRetriesVariable = 'HERALD_RETRY_MAX_RETRIES';
const retryJitterVariable = 'HERALD_RETRY_JITTER';
const readInboxRetentionDaysVariable = 'HERALD_READ_INBOX_RETENTION_DAYS';
const retryCapSecondsVariable = 'HERALD_RETRY_CAP_SECONDS';
const stuckAfterSecondsVariable = 'HERALD_STUCK_AFTER_SECONDS';
const sweepMaxItemsVariable = 'HERALD_SWEEP_MAX_ITEMS';
const cancelledRetentionDaysVariable = 'HERALD_CANCELLED_RETENTION_DAYS';
const cleanupMaxItemsVariable = 'HERALD_CLEANUP_MAX_ITEMS';
const broadcastPageSizeVariable = 'HERALD_BROADCAST_PAGE_SIZE';
const broadcastWatchSecondsVariable = 'HERALD_BROADCAST_WATCH_SECONDS';
const deliveryHoldMsVariable = 'HERALD_DELIVERY_HOLD_MS';
const sesPerSecondVariable = 'HERALD_RATE_SES_PER_SECOND';
const sesTenantPerSecondVariable = 'HERALD_RATE_SES_TENANT_PER_SECOND';
const smsPerSecondVariable = 'HERALD_RATE_SMS_PER_SECOND';
const smsTenantPerSecondVariable = 'HERALD_RATE_SMS_TENANT_PER_SECOND';
const vapidSecretArnVariable = 'HERALD_VAPID_SECRET_ARN';
const vapidSubjectVariable = 'HERALD_VAPID_SUBJECT';
const snsPlatformApplicationFcmVariable = 'HERALD_SNS_PLATFORM_APPLICATION_FCM';
const snsPlatformApplicationApnsVariable = 'HERALD_SNS_PLATFORM_APPLICATION_APNS';
const pushAllowHttpLoopbackVariable = 'HERALD_PUSH_ALLOW_HTTP_LOOPBACK';
const selfSendUserPerHourVariable = 'HERALD_SELF_SEND_USER_PER_HOUR';
const selfSendTenantPerHourVariable = 'HERALD_SELF_SEND_TENANT_PER_HOUR';
const emailConfigurationSetVariable = 'HERALD_SES_CONFIGURATION_SET';
const sdkConnectionTimeoutMsVariable = 'HERALD_SDK_CONNECTION_TIMEOUT_MS';
const sdkRequestTimeoutMsVariable = 'HERALD_SDK_REQUEST_TIMEOUT_MS';
const tenantRequestsPerSecondVariable = 'HERALD_TENANT_REQUESTS_PER_SECOND';
const tenantClaimVariable = 'HERALD_TENANT_CLAIM';
const roleClaimVariable = 'HERALD_ROLE_CLAIM';
const singleTenantVariable = 'HERALD_SINGLE_TENANT';
const telegramTokenSecretVariable = 'HERALD_TELEGRAM_TOKEN_SECRET';
const telegramApiUrlVariable = 'HERALD_TELEGRAM_API_URL';
const webhookTargetsVariable = 'HERALD_WEBHOOK_TARGETS';

/** The environment variables that configure Herald's functions (besides table and queue ones). */
export const configVariables = {
  scheduleGroup: scheduleGroupVariable,
  schedulerRoleArn: schedulerRoleArnVariable,
  schedulerLeadSeconds: schedulerLeadSecondsVariable,
  schedulerFiresPerSecond: schedulerFiresPerSecondVariable,
  emailFrom: emailFromVariable,
  websocketCallbackUrl: websocketCallbackUrlVariable,
  jwtIssuer: jwtIssuerVariable,
  jwtAudience: jwtAudienceVariable,
  jwksUrl: jwksUrlVariable,
  sentRetentionDays: sentRetentionDaysVariable,
  leaseSeconds: leaseSecondsVariable,
  retryBaseSeconds: retryBaseSecondsVariable,
  retryFactor: retryFactorVariable,
  retryMaxRetries: retryMaxRetriesVariable,
  retryJitter: retryJitterVariable,
  readInboxRetentionDays: readInboxRetentionDaysVariable,
  retryCapSeconds: retryCapSecondsVariable,
  stuckAfterSeconds: stuckAfterSecondsVariable,
  sweepMaxItems: sweepMaxItemsVariable,
  cancelledRetentionDays: cancelledRetentionDaysVariable,
  cleanupMaxItems: cleanupMaxItemsVariable,
  broadcastPageSize: broadcastPageSizeVariable,
  broadcastWatchSeconds: broadcastWatchSecondsVariable,
  deliveryHoldMs: deliveryHoldMsVariable,
  sesPerSecond: sesPerSecondVariable,
  sesTenantPerSecond: sesTenantPerSecondVariable,
  smsPerSecond: smsPerSecondVariable,
  smsTenantPerSecond: smsTenantPerSecondVariable,
  vapidSecretArn: vapidSecretArnVariable,
  vapidSubject: vapidSubjectVariable,
  snsPlatformApplicationFcm: snsPlatformApplicationFcmVariable,
  snsPlatformApplicationApns: snsPlatformApplicationApnsVariable,
  pushAllowHttpLoopback: pushAllowHttpLoopbackVariable,
  selfSendUserPerHour: selfSendUserPerHourVariable,
  selfSendTenantPerHour: selfSendTenantPerHourVariable,
  emailConfigurationSet: emailConfigurationSetVariable,
  sdkConnectionTimeoutMs: sdkConnectionTimeoutMsVariable,
  sdkRequestTimeoutMs: sdkRequestTimeoutMsVariable,
  tenantRequestsPerSecond: tenantRequestsPerSecondVariable,
  tenantClaim: tenantClaimVariable,
  roleClaim: roleClaimVariable,
  singleTenant: singleTenantVariable,
  telegramTokenSecret: telegramTokenSecretVariable,
  telegramApiUrl: telegramApiUrlVariable,
  webhookTargets: webhookTargetsVariable,
} as const;

type Env = Readonly<Record<string, string | undefined>>;

/** Parses the variables `shape` names; each value is read back by its variable's name (and typed there). */
function parseSection(section: string, shape: Readonly<Record<string, z.ZodMiniType>>, env: Env): Readonly<Record<string, unknown>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new ConfigError(`Invalid ${section} configuration: ${problems}`, { cause: result.error });
  }
  return result.data;
}

const required = z.string().check(z.minLength(1));
/** `Number('')` is 0: a blank numeric variable must fail, naming it, not silently become zero. */
const blankAsInvalid = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? Number.NaN : value);
const numeric = (schema: z.ZodMiniType): z.ZodMiniType => z.pipe(z.transform(blankAsInvalid), schema);
/** A number from a variable: coerced, within the checks, `fallback` when the variable is unset. */
const numberOr = (fallback: number, ...checks: z.core.$ZodCheck<number>[]): z.ZodMiniType => numeric(z._default(z.coerce.number().check(...checks), fallback));
/** A (safe) integer from a variable, at least `min` (and at most `max`), `fallback` when the variable is unset. */
const integerOr = (fallback: number, min: number, max?: number): z.ZodMiniType =>
  numberOr(fallback, z.int(), z.minimum(min), ...(max === undefined ? [] : [z.maximum(max)]));
const seconds = (fallback: number): z.ZodMiniType => integerOr(fallback, 0);

/** Physical DynamoDB table names. */
export interface TablesConfig {
  readonly notifications: string;
  readonly recipients: string;
  readonly inbox: string;
  readonly idempotency: string;
  readonly metrics: string;
  readonly memberships: string;
  readonly broadcasts: string;
  readonly broadcastRecipients: string;
  readonly rateLimits: string;
  readonly recurring: string;
  readonly templates: string;
}

/**
 * Reads the table names that the calling function was granted, each on first use and then kept:
 * the delivery engine names tables for every item it touches, and parsing the environment each
 * time was a tenth of its CPU.
 */
export function tableNames(env: Env = process.env): TablesConfig {
  const names = new Map<TableName, string>();
  const read = (name: TableName): string => {
    let value = names.get(name);
    if (value === undefined) {
      const variable = tableVariable(name);
      value = parseSection(`table ${name}`, { [variable]: required }, env)[variable] as string;
      names.set(name, value);
    }
    return value;
  };
  // Getters: a function that never touches the inbox need not be told its name.
  return {
    get notifications() { return read('notifications'); },
    get recipients() { return read('recipients'); },
    get inbox() { return read('inbox'); },
    get idempotency() { return read('idempotency'); },
    get metrics() { return read('metrics'); },
    get memberships() { return read('memberships'); },
    get broadcasts() { return read('broadcasts'); },
    get broadcastRecipients() { return read('broadcast-recipients'); },
    get rateLimits() { return read('rate-limits'); },
    get recurring() { return read('recurring'); },
    get templates() { return read('templates'); },
  };
}

/** Where the delivery queue lives. */
export interface DeliveryQueueConfig {
  readonly url: string;
  readonly arn: string;
}

export function deliveryQueueConfig(env: Env = process.env): DeliveryQueueConfig {
  const urlVar = queueUrlVariable('delivery');
  const arnVar = queueArnVariable('delivery');
  const parsed = parseSection('delivery queue', { [urlVar]: required, [arnVar]: required }, env);
  return { url: parsed[urlVar] as string, arn: parsed[arnVar] as string };
}

/** How notifications are put on EventBridge Scheduler. */
export interface SchedulerConfig {
  readonly groupName: string;
  readonly roleArn: string;
  readonly targetArn: string;
  readonly deadLetterArn: string;
  /**
   * Schedules fire this many seconds before the notification is due; the delivery consumer then
   * holds the message (visibility) until the exact second. AWS fires one-time schedules within
   * a minute, so 60 s keeps delivery on the second. Notifications due sooner than this skip the
   * scheduler and go to the queue with `DelaySeconds`.
   */
  readonly leadSeconds: number;
  /**
   * Targets the Scheduler fires per second in this account and region (its *Invocations throttle
   * limit* quota, 1,000 by default): a burst due at once is spread so that none waits past its time.
   */
  readonly firesPerSecond: number;
}

/** Reads the scheduler section for schedules that target `target` and dead-letter to `deadLetter`. */
function schedulerSection(section: string, target: QueueName, deadLetter: QueueName, env: Env): SchedulerConfig {
  const targetVar = queueArnVariable(target);
  const dlqVar = queueArnVariable(deadLetter);
  const parsed = parseSection(
    section,
    {
      [scheduleGroupVariable]: required,
      [schedulerRoleArnVariable]: required,
      [targetVar]: required,
      [dlqVar]: required,
      [schedulerLeadSecondsVariable]: seconds(60),
      [schedulerFiresPerSecondVariable]: integerOr(1_000, 1, 1_000_000),
    },
    env,
  );
  return {
    groupName: parsed[scheduleGroupVariable] as string,
    roleArn: parsed[schedulerRoleArnVariable] as string,
    targetArn: parsed[targetVar] as string,
    deadLetterArn: parsed[dlqVar] as string,
    leadSeconds: parsed[schedulerLeadSecondsVariable] as number,
    firesPerSecond: parsed[schedulerFiresPerSecondVariable] as number,
  };
}

/** How notifications are put on EventBridge Scheduler: targeting the delivery queue. */
export function schedulerConfig(env: Env = process.env): SchedulerConfig {
  return schedulerSection('scheduler', 'delivery', 'scheduler-dlq', env);
}

/** Delivery behaviour. */
export interface DeliveryConfig {
  readonly emailFrom: string;
  readonly websocketCallbackUrl: string;
  /** How long a claim (PENDING → SENDING) holds before another worker may take over. */
  readonly leaseSeconds: number;
  /** Days a sent or failed notification is kept before DynamoDB TTL removes it. */
  readonly sentRetentionDays: number;
}

export function deliveryConfig(env: Env = process.env): DeliveryConfig {
  const parsed = parseSection(
    'delivery',
    {
      [emailFromVariable]: z.email(),
      [websocketCallbackUrlVariable]: z.url(),
      [leaseSecondsVariable]: seconds(60),
      [sentRetentionDaysVariable]: seconds(90),
    },
    env,
  );
  return {
    emailFrom: parsed[emailFromVariable] as string,
    websocketCallbackUrl: parsed[websocketCallbackUrlVariable] as string,
    leaseSeconds: parsed[leaseSecondsVariable] as number,
    sentRetentionDays: parsed[sentRetentionDaysVariable] as number,
  };
}

/** The SDK clients' timeouts, in ms. */
export interface SdkTimeoutsConfig {
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/**
 * The SDK clients' timeouts: `fallback` (shared/adapters/sdk-clients.ts) unless the environment
 * sets them; only the local stack does, whose endpoints share a loaded machine's event loop.
 */
export function sdkTimeoutsConfig(fallback: SdkTimeoutsConfig, env: Env = process.env): SdkTimeoutsConfig {
  const ms = (value: number): z.ZodMiniType => integerOr(value, 100, 900_000);
  const parsed = parseSection('SDK timeouts', { [sdkConnectionTimeoutMsVariable]: ms(fallback.connectionTimeoutMs), [sdkRequestTimeoutMsVariable]: ms(fallback.requestTimeoutMs) }, env);
  return { connectionTimeoutMs: parsed[sdkConnectionTimeoutMsVariable] as number, requestTimeoutMs: parsed[sdkRequestTimeoutMsVariable] as number };
}

/** The SES configuration set every e-mail names (its event destination reports bounces and complaints back). */
export function emailConfigurationSet(env: Env = process.env): string {
  const v = emailConfigurationSetVariable;
  return parseSection('e-mail', { [v]: required }, env)[v] as string;
}

/** How failed deliveries are retried. */
export function retryPolicyConfig(env: Env = process.env): RetryPolicy {
  const d = defaultRetryPolicy;
  const parsed = parseSection(
    'retry',
    {
      [retryBaseSecondsVariable]: numberOr(d.baseSeconds, z.nonnegative()),
      [retryFactorVariable]: numberOr(d.factor, z.minimum(1)),
      [retryMaxRetriesVariable]: integerOr(d.maxRetries, 0),
      [retryJitterVariable]: numberOr(d.jitter, z.minimum(0), z.maximum(1)),
      // SQS refuses a visibility timeout beyond 12 hours.
      [retryCapSecondsVariable]: integerOr(d.capSeconds, 1, d.capSeconds),
    },
    env,
  );
  return {
    baseSeconds: parsed[retryBaseSecondsVariable] as number,
    factor: parsed[retryFactorVariable] as number,
    maxRetries: parsed[retryMaxRetriesVariable] as number,
    jitter: parsed[retryJitterVariable] as number,
    capSeconds: parsed[retryCapSecondsVariable] as number,
  };
}

/** Where the delivery consumer sends a message whose notification failed after its last retry. */
export function deliveryDeadLetterQueueUrl(env: Env = process.env): string {
  const urlVar = queueUrlVariable('delivery-dlq');
  return parseSection('delivery dead-letter queue', { [urlVar]: required }, env)[urlVar] as string;
}

/** How the stuck-retry sweep finds notifications that nothing is delivering. */
export interface StuckRetryConfig {
  /** A pending notification this many seconds past its time is stuck. */
  readonly stuckAfterSeconds: number;
  /** At most this many notifications are put back on the queue per run. */
  readonly maxItems: number;
}

export function stuckRetryConfig(env: Env = process.env): StuckRetryConfig {
  const parsed = parseSection(
    'stuck-retry sweep',
    {
      [stuckAfterSecondsVariable]: seconds(300),
      [sweepMaxItemsVariable]: integerOr(1_000, 1),
    },
    env,
  );
  return { stuckAfterSeconds: parsed[stuckAfterSecondsVariable] as number, maxItems: parsed[sweepMaxItemsVariable] as number };
}

/** How the cleanup sweep removes cancelled notifications. */
export interface CleanupConfig {
  /** Cancelled notifications are deleted this many days after their cancellation. */
  readonly cancelledRetentionDays: number;
  /** At most this many are deleted per run; the next run goes on. */
  readonly maxItems: number;
}

export function cleanupConfig(env: Env = process.env): CleanupConfig {
  const parsed = parseSection(
    'cleanup sweep',
    {
      [cancelledRetentionDaysVariable]: seconds(30),
      [cleanupMaxItemsVariable]: integerOr(10_000, 1),
    },
    env,
  );
  return {
    cancelledRetentionDays: parsed[cancelledRetentionDaysVariable] as number,
    maxItems: parsed[cleanupMaxItemsVariable] as number,
  };
}

/** How long an inbox item is kept once read (an unread one is kept until it is read). */
export function readInboxRetentionDays(env: Env = process.env): number {
  const v = readInboxRetentionDaysVariable;
  return parseSection('inbox', { [v]: integerOr(30, 1) }, env)[v] as number;
}

/** The API Gateway Management API endpoint, for functions that answer on a socket. */
export function websocketCallbackUrl(env: Env = process.env): string {
  const v = websocketCallbackUrlVariable;
  return parseSection('websocket', { [v]: z.url() }, env)[v] as string;
}

/** Who may issue tokens, for whom, and where their public keys are. */
export interface TokenConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
}

export function tokenConfig(env: Env = process.env): TokenConfig {
  const parsed = parseSection(
    'token',
    { [jwtIssuerVariable]: required, [jwtAudienceVariable]: required, [jwksUrlVariable]: z.url() },
    env,
  );
  return {
    issuer: parsed[jwtIssuerVariable] as string,
    audience: parsed[jwtAudienceVariable] as string,
    jwksUrl: parsed[jwksUrlVariable] as string,
  };
}

/** Which token claims name the caller's tenant and roles, and whether a token may carry no tenant. */
export interface ClaimsConfig {
  /** The claim that holds the tenant id, e.g. `tenant`, `custom:tenant`, `https://herald.example.com/tenant`. */
  readonly tenantClaim: string;
  /** The claim that holds the roles (a word, a list, or API Gateway's `[a b]`), e.g. `role`, `cognito:groups`. */
  readonly roleClaim: string;
  /** True: a token without a tenant claim belongs to tenant `default`. False: it is refused (401). */
  readonly singleTenant: boolean;
}

/**
 * A claim name: one word of printable characters (`tenant`, `custom:tenant`,
 * `https://herald.example.com/roles`). Made when read, so a bundle that reads no claims leaves
 * zod's pattern check out.
 */
function claimName(): z.ZodMiniType<string> {
  return z.string().check(z.regex(/^[\x21-\x7e]{1,256}$/, 'must be a claim name: 1-256 printable characters without spaces'));
}

/**
 * The claim names and tenancy the deployment set (`herald:tenantClaim`, `herald:roleClaim`,
 * `herald:singleTenant`); Herald's own names, multi-tenant, when unset.
 */
export function claimsConfig(env: Env = process.env): ClaimsConfig {
  const parsed = parseSection(
    'token claims',
    {
      [tenantClaimVariable]: z._default(claimName(), 'tenant'),
      [roleClaimVariable]: z._default(claimName(), 'role'),
      [singleTenantVariable]: z._default(z.enum(['true', 'false']), 'false'),
    },
    env,
  );
  return { tenantClaim: parsed[tenantClaimVariable] as string, roleClaim: parsed[roleClaimVariable] as string, singleTenant: parsed[singleTenantVariable] === 'true' };
}

/** Where a queue lives (URL for the SDK, ARN for schedules). */
export interface QueueConfig {
  readonly url: string;
  readonly arn: string;
}

function queueConfig(name: QueueName, env: Env): QueueConfig {
  const urlVar = queueUrlVariable(name);
  const arnVar = queueArnVariable(name);
  const parsed = parseSection(`${name} queue`, { [urlVar]: required, [arnVar]: required }, env);
  return { url: parsed[urlVar] as string, arn: parsed[arnVar] as string };
}

/** A dead-letter queue an operator may read, and where its messages go back to. */
export interface DeadLetterQueueConfig {
  readonly name: QueueName;
  readonly url: string;
  /** Absent for a queue whose messages cannot be moved back (`metrics-dlq`). */
  readonly redriveTo?: { readonly name: QueueName; readonly url: string };
}

/** Every dead-letter queue of the deployment with its redrive destination (`redrivesDeadLetters` access). */
export function deadLetterQueuesConfig(env: Env = process.env): DeadLetterQueueConfig[] {
  return deadLetterQueues().map((queue) => {
    const destination = queue.deadLetters?.redriveTo;
    return {
      name: queue.name,
      url: queueConfig(queue.name, env).url,
      ...(destination ? { redriveTo: { name: destination, url: queueConfig(destination, env).url } } : {}),
    };
  });
}

/** The fan-out queue of broadcasts. */
export function fanoutQueueConfig(env: Env = process.env): QueueConfig {
  return queueConfig('fanout', env);
}

/** The queue SES's bounces and complaints arrive on (through an EventBridge rule). */
export function sesFeedbackQueueConfig(env: Env = process.env): QueueConfig {
  return queueConfig('ses-feedback', env);
}

/** The delivery queue of broadcasts. */
export function broadcastDeliveryQueueConfig(env: Env = process.env): QueueConfig {
  return queueConfig('broadcast-delivery', env);
}

/**
 * How broadcasts are put on EventBridge Scheduler: the same group, role and lead time as
 * notifications, but the schedule targets the fan-out queue, and its dead letters go to the
 * fan-out dead-letter queue (which redrives to the fan-out queue).
 */
export function broadcastSchedulerConfig(env: Env = process.env): SchedulerConfig {
  return schedulerSection('broadcast scheduler', 'fanout', 'fanout-dlq', env);
}

/** How a broadcast fans out. */
export interface BroadcastConfig {
  /** Audience entries one fan-out invocation resolves (and rows it reads per page). */
  readonly pageSize: number;
  /** Seconds between two looks of the watch that restarts a stalled fan-out (SQS delays cap at 900). */
  readonly watchSeconds: number;
  /** Days a final recipient row is kept before DynamoDB TTL removes it (as sent notifications). */
  readonly retentionDays: number;
}

export function broadcastConfig(env: Env = process.env): BroadcastConfig {
  const parsed = parseSection(
    'broadcast',
    {
      [broadcastPageSizeVariable]: integerOr(1_000, 1, 10_000),
      [broadcastWatchSecondsVariable]: integerOr(60, 1, 900),
      [sentRetentionDaysVariable]: seconds(90),
    },
    env,
  );
  return {
    pageSize: parsed[broadcastPageSizeVariable] as number,
    watchSeconds: parsed[broadcastWatchSecondsVariable] as number,
    retentionDays: parsed[sentRetentionDaysVariable] as number,
  };
}

/** How the delivery engine works, besides the retry policy. */
export interface EngineConfig {
  /** A unit due within this many ms is waited for in the worker rather than sent back to the queue. */
  readonly holdMs: number;
}

export function engineConfig(env: Env = process.env): EngineConfig {
  const v = deliveryHoldMsVariable;
  // At least a second: a message put back on the queue comes back up to a second early.
  const parsed = parseSection('delivery engine', { [v]: integerOr(2_000, 1_000, 10_000) }, env);
  return { holdMs: parsed[v] as number };
}

/**
 * The send-rate budgets set by configuration (sends per second, overall and per tenant). A
 * provider without one here gets its budget from the provider itself where it tells (SES's
 * `GetSendQuota`), else none.
 */
export function sendBudgetsConfig(env: Env = process.env): {
  readonly ses?: { readonly perSecond?: number; readonly tenantPerSecond?: number };
  readonly 'sns-sms'?: { readonly perSecond?: number; readonly tenantPerSecond?: number };
} {
  const rate = numeric(z.optional(z.coerce.number().check(z.positive(), z.maximum(100_000))));
  const parsed = parseSection(
    'send budgets',
    { [sesPerSecondVariable]: rate, [sesTenantPerSecondVariable]: rate, [smsPerSecondVariable]: rate, [smsTenantPerSecondVariable]: rate },
    env,
  );
  const values = parsed as Record<string, number | undefined>;
  const budget = (perSecondVar: string, tenantVar: string): { perSecond?: number; tenantPerSecond?: number } | undefined => {
    const perSecond = values[perSecondVar];
    const tenantPerSecond = values[tenantVar];
    if (perSecond === undefined && tenantPerSecond === undefined) return undefined;
    return { ...(perSecond !== undefined ? { perSecond } : {}), ...(tenantPerSecond !== undefined ? { tenantPerSecond } : {}) };
  };
  const ses = budget(sesPerSecondVariable, sesTenantPerSecondVariable);
  const sms = budget(smsPerSecondVariable, smsTenantPerSecondVariable);
  return { ...(ses ? { ses } : {}), ...(sms ? { 'sns-sms': sms } : {}) };
}

/** How a function reaches the push providers: the stage's VAPID key secret and the SNS platform applications. */
export interface PushConfig {
  /** The Secrets Manager secret the stage's VAPID key pair is derived from. */
  readonly vapidSecretArn: string;
  /** The VAPID `sub` claim: a `mailto:` or `https:` contact for push services (RFC 8292, 2.1). */
  readonly vapidSubject: string;
  /** Platform application ARNs by platform; a platform without one takes no devices. */
  readonly platformApplications: { readonly fcm?: string; readonly apns?: string };
  /**
   * Whether a push endpoint may be plain `http://` on a loopback address, and reach any address:
   * only the local stack says so (its push service). On AWS every endpoint is https and goes
   * through the webhooks' SSRF guard (public addresses only, no redirects), so a user cannot point
   * Herald at the Lambda runtime API on 127.0.0.1, a private address, or anything without TLS.
   */
  readonly allowHttpLoopback: boolean;
}

export function pushConfig(env: Env = process.env): PushConfig {
  const arn = z.optional(z.string().check(z.regex(/^arn:[\w-]+:sns:[\w-]+:\d{12}:app\/(GCM|APNS|APNS_SANDBOX)\/[\w.-]+$/, 'must be an SNS platform application ARN')));
  const parsed = parseSection(
    'push',
    {
      [vapidSecretArnVariable]: required,
      [vapidSubjectVariable]: z.string().check(z.regex(/^(mailto:|https:\/\/)/, 'must be a mailto: or https: URL')),
      [snsPlatformApplicationFcmVariable]: arn,
      [snsPlatformApplicationApnsVariable]: arn,
      [pushAllowHttpLoopbackVariable]: z._default(z.enum(['true', 'false']), 'false'),
    },
    env,
  );
  const fcm = parsed[snsPlatformApplicationFcmVariable] as string | undefined;
  const apns = parsed[snsPlatformApplicationApnsVariable] as string | undefined;
  return {
    vapidSecretArn: parsed[vapidSecretArnVariable] as string,
    vapidSubject: parsed[vapidSubjectVariable] as string,
    platformApplications: { ...(fcm ? { fcm } : {}), ...(apns ? { apns } : {}) },
    allowHttpLoopback: parsed[pushAllowHttpLoopbackVariable] === 'true',
  };
}

/** How much plain users may send themselves (notifications, verification codes), per hour. */
export interface SelfSendConfig {
  /** Sends per user per hour. */
  readonly userPerHour: number;
  /** Sends per tenant per hour, all its plain users together. */
  readonly tenantPerHour: number;
}

/** Defaults: a person's own reminders fit easily; a tenant's users together cannot make Herald a mass mailer. */
export const defaultSelfSend: SelfSendConfig = { userPerHour: 60, tenantPerHour: 1_000 };

export function selfSendConfig(env: Env = process.env): SelfSendConfig {
  const perHour = (fallback: number): z.ZodMiniType => integerOr(fallback, 1, 1_000_000);
  const parsed = parseSection(
    'self-service send limits',
    { [selfSendUserPerHourVariable]: perHour(defaultSelfSend.userPerHour), [selfSendTenantPerHourVariable]: perHour(defaultSelfSend.tenantPerHour) },
    env,
  );
  return { userPerHour: parsed[selfSendUserPerHourVariable] as number, tenantPerHour: parsed[selfSendTenantPerHourVariable] as number };
}

/** The requests one tenant may make per second through the HTTP API (then 429 with `Retry-After`); 0: no quota. */
export function tenantRequestsPerSecond(env: Env = process.env): number {
  const v = tenantRequestsPerSecondVariable;
  return parseSection('request quota', { [v]: integerOr(defaultTenantRequestsPerSecond, 0, 100_000) }, env)[v] as number;
}

/** The default of `herald:tenantRequestsPerSecond` (cdk.json's). */
export const defaultTenantRequestsPerSecond = 50;
/** Where the Telegram bot's token is kept (a Secrets Manager secret's ARN or name), and the Bot API's base URL. */
export interface TelegramConfig {
  readonly tokenSecretId: string;
  readonly apiUrl: string;
}

export function telegramConfig(env: Env = process.env): TelegramConfig {
  const parsed = parseSection('telegram', { [telegramTokenSecretVariable]: required, [telegramApiUrlVariable]: z.url() }, env);
  return { tokenSecretId: parsed[telegramTokenSecretVariable] as string, apiUrl: parsed[telegramApiUrlVariable] as string };
}

/** Which webhook URLs may be posted to: `public-https` (the default, every AWS stage) or `any` (the local stack). */
export function webhookTargetsConfig(env: Env = process.env): 'public-https' | 'any' {
  const v = webhookTargetsVariable;
  const parsed = parseSection('webhooks', { [v]: z._default(z.enum(['public-https', 'any']), 'public-https') }, env);
  return parsed[v] as 'public-https' | 'any';
}

/** Parses a section once and keeps it for the life of the process (a Lambda cold start). */
export function once<T>(read: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: read() }).v;
}
