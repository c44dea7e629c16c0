/**
 * Which access sets which environment variable: the one home of that mapping.
 *
 * A function learns where its tables and queues are, and the settings it reads, from environment
 * variables that shared/config.ts parses. The `bind*` methods of the CDK construct set exactly the
 * variables the builders below return (with CDK tokens as values), and the local stack gives each
 * function's worker `functionEnvironment()` of its description (with local values). So a function
 * that reads a table it was not granted fails alike on AWS and locally: shared/config.ts throws a
 * ConfigError naming the missing variable. test/infra proves the two agree for every function.
 *
 * Pure: no CDK or AWS SDK import, no I/O.
 */
import { configVariables } from '../shared/config.ts';
import type { RetryPolicy } from '../shared/domain/retry-policy.ts';
import { queueByName, redriveQueueNames, tableByName } from './app-description.ts';
import type { FunctionDescription, QueueDescription, QueueName, TableDescription, TableName } from './app-description.ts';
import type { ClaimsSettings, DeliverySettings, FunctionSettings, PushSettings, SelfSendSettings, SweepSettings } from './stacks/herald-settings.ts';

/** Environment variables, by name. */
export type Variables = Readonly<Record<string, string>>;

/** Where a queue is: its URL (what the SDK sends to) and its ARN (what schedules and policies name). */
export interface QueueLocation {
  readonly url: string;
  readonly arn: string;
}

/** Who issues the tokens a function verifies itself, and where their keys are. */
export interface TokenVerificationSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
}

/** What a function that makes one-shot schedules is told: group, role, lead time and their queues. */
export interface ScheduleSettings {
  readonly groupName: string;
  /** The role every schedule runs as (the function passes it to CreateSchedule). */
  readonly roleArn: string;
  readonly leadSeconds: number;
  /** Targets the Scheduler fires per second (its invocation quota). */
  readonly firesPerSecond: number;
  /** The queue the schedules send to; the function sends there itself when a message is due sooner. */
  readonly target: { readonly description: QueueDescription; readonly location: QueueLocation };
  /** Where Scheduler puts a firing it could not deliver: the ARN only, for DeadLetterConfig. */
  readonly deadLetter: { readonly description: QueueDescription; readonly arn: string };
}

/** The values behind the variables of one deployment: CDK tokens on AWS, local names and URLs locally. */
export interface EnvironmentSources {
  /** The deployment's settings (its stage, API and operations settings play no part in a function's environment). */
  readonly settings: FunctionSettings;
  /** The physical name of a table. */
  readonly tableName: (table: TableName) => string;
  /** Where a queue is. */
  readonly queue: (queue: QueueName) => QueueLocation;
  /** The schedule group and the role its schedules run as. */
  readonly scheduler: { readonly groupName: string; readonly roleArn: string };
  /** The API Gateway Management API endpoint of the WebSocket API's stage. */
  readonly websocketCallbackUrl: string;
  /** The name of the SES configuration set every e-mail names. */
  readonly emailConfigurationSet: string;
  /** The Secrets Manager secret the stage's VAPID keys are derived from. */
  readonly vapidSecretArn: string;
  /** The Telegram bot token's secret (ARN or name) and the Bot API's base URL. */
  readonly telegram: TelegramSettings;
  /** Which webhook URLs may be posted to: `public-https` on AWS, `any` on the local stack only. */
  readonly webhookTargets: 'public-https' | 'any';
}

/** Where a function that sends Telegram messages finds its bot. */
export interface TelegramSettings {
  readonly tokenSecret: string;
  readonly apiUrl: string;
}

/** The bot token's secret and the Bot API's URL, of a function that sends Telegram messages. */
export function telegramVariables(settings: TelegramSettings): Variables {
  return { [configVariables.telegramTokenSecret]: settings.tokenSecret, [configVariables.telegramApiUrl]: settings.apiUrl };
}

/** The SSRF guard's mode, of a function that posts webhooks. */
export function webhookVariables(targets: 'public-https' | 'any'): Variables {
  return { [configVariables.webhookTargets]: targets };
}

/** `{ <table's variable>: name }`: where a granted table is. */
export function tableVariables(table: TableDescription, tableName: string): Variables {
  return { [table.envVar]: tableName };
}

/** `{ <queue's URL variable>: url, <queue's ARN variable>: arn }`: where a queue the function sends to or consumes is. */
export function queueVariables(queue: QueueDescription, location: QueueLocation): Variables {
  return { [queue.urlEnvVar]: location.url, [queue.arnEnvVar]: location.arn };
}

/** Everything CreateSchedule needs, as shared/config.ts reads it (schedulerConfig, broadcastSchedulerConfig). */
export function scheduleVariables(schedule: ScheduleSettings): Variables {
  return {
    [configVariables.scheduleGroup]: schedule.groupName,
    [configVariables.schedulerRoleArn]: schedule.roleArn,
    [configVariables.schedulerLeadSeconds]: String(schedule.leadSeconds),
    [configVariables.schedulerFiresPerSecond]: String(schedule.firesPerSecond),
    ...queueVariables(schedule.target.description, schedule.target.location),
    [schedule.deadLetter.description.arnEnvVar]: schedule.deadLetter.arn,
  };
}

/** The sender address and the SES configuration set (which reports bounces and complaints back) of a function that sends email. */
export function emailVariables(from: string, configurationSet: string): Variables {
  return { [configVariables.emailFrom]: from, [configVariables.emailConfigurationSet]: configurationSet };
}

/** The Management API endpoint of a function that posts to WebSocket connections. */
export function connectionVariables(callbackUrl: string): Variables {
  return { [configVariables.websocketCallbackUrl]: callbackUrl };
}

/** Issuer, audience and JWKS URL of a function that verifies JWTs itself. */
export function tokenVerificationVariables(settings: TokenVerificationSettings): Variables {
  return {
    [configVariables.jwtIssuer]: settings.issuer,
    [configVariables.jwtAudience]: settings.audience,
    [configVariables.jwksUrl]: settings.jwksUrl,
  };
}

/** The delivery retry policy (seconds, factor, count, jitter fraction) of a function that retries deliveries. */
export function retryPolicyVariables(policy: RetryPolicy): Variables {
  return {
    [configVariables.retryBaseSeconds]: String(policy.baseSeconds),
    [configVariables.retryFactor]: String(policy.factor),
    [configVariables.retryMaxRetries]: String(policy.maxRetries),
    [configVariables.retryJitter]: String(policy.jitter),
    [configVariables.retryCapSeconds]: String(policy.capSeconds),
  };
}

/** The bounds (seconds, days, item counts) of a sweep function. */
export function sweepVariables(settings: SweepSettings): Variables {
  return {
    [configVariables.stuckAfterSeconds]: String(settings.stuckAfterSeconds),
    [configVariables.sweepMaxItems]: String(settings.sweepMaxItems),
    [configVariables.cancelledRetentionDays]: String(settings.cancelledRetentionDays),
    [configVariables.cleanupMaxItems]: String(settings.cleanupMaxItems),
  };
}

/** The delivery engine's hold (ms). */
export function deliveryVariables(settings: DeliverySettings): Variables {
  return { [configVariables.deliveryHoldMs]: String(settings.holdMs) };
}

/** The providers' send budgets (sends per second) set by configuration; unset ones are left out. */
export function sendBudgetVariables(settings: DeliverySettings): Variables {
  return {
    ...(settings.ses.perSecond !== undefined ? { [configVariables.sesPerSecond]: String(settings.ses.perSecond) } : {}),
    ...(settings.ses.tenantPerSecond !== undefined ? { [configVariables.sesTenantPerSecond]: String(settings.ses.tenantPerSecond) } : {}),
    ...(settings.sms.perSecond !== undefined ? { [configVariables.smsPerSecond]: String(settings.sms.perSecond) } : {}),
    ...(settings.sms.tenantPerSecond !== undefined ? { [configVariables.smsTenantPerSecond]: String(settings.sms.tenantPerSecond) } : {}),
  };
}

/** What a function that pushes needs: the VAPID secret, the VAPID contact (the sender address) and the platform applications. */
export function pushVariables(settings: PushSettings, vapidSecretArn: string, emailFrom: string): Variables {
  return {
    [configVariables.vapidSecretArn]: vapidSecretArn,
    [configVariables.vapidSubject]: `mailto:${emailFrom}`,
    ...(settings.fcmApplicationArn ? { [configVariables.snsPlatformApplicationFcm]: settings.fcmApplicationArn } : {}),
    ...(settings.apnsApplicationArn ? { [configVariables.snsPlatformApplicationApns]: settings.apnsApplicationArn } : {}),
  };
}

/** What plain users may send themselves per hour, per user and per tenant. */
export function selfSendVariables(settings: SelfSendSettings): Variables {
  return {
    [configVariables.selfSendUserPerHour]: String(settings.userPerHour),
    [configVariables.selfSendTenantPerHour]: String(settings.tenantPerHour),
  };
}

/** The requests one tenant may make per second through the HTTP API. */
export function requestQuotaVariables(tenantRequestsPerSecond: number): Variables {
  return { [configVariables.tenantRequestsPerSecond]: String(tenantRequestsPerSecond) };
}

/** Which token claims name the tenant and roles, and whether a token may name no tenant. */
export function claimsVariables(settings: ClaimsSettings): Variables {
  return {
    [configVariables.tenantClaim]: settings.tenantClaim,
    [configVariables.roleClaim]: settings.roleClaim,
    [configVariables.singleTenant]: String(settings.singleTenant),
  };
}

/**
 * Every variable the deployment sets for `fn`, derived from its `access` and queue triggers:
 * exactly what the CDK's `bind*` and `consumeQueue` calls set, bar the runtime's `NODE_OPTIONS`.
 * Throws when the description names a table or queue it does not hold.
 */
export function functionEnvironment(fn: FunctionDescription, sources: EnvironmentSources): Variables {
  const { access } = fn;
  const { settings } = sources;
  const queue = (name: QueueName): Variables => queueVariables(queueByName(name), sources.queue(name));
  // The queues config.ts's schedulerConfig and broadcastSchedulerConfig read, as the data stack wires them.
  const schedule = (target: QueueName, deadLetter: QueueName): Variables =>
    scheduleVariables({
      ...sources.scheduler,
      leadSeconds: settings.schedulerLeadSeconds,
      firesPerSecond: settings.schedulerFiresPerSecond,
      target: { description: queueByName(target), location: sources.queue(target) },
      deadLetter: { description: queueByName(deadLetter), arn: sources.queue(deadLetter).arn },
    });
  const granted = Object.entries(access.tables ?? {}).filter(([, level]) => level !== undefined);
  const consumed = fn.triggers.flatMap((trigger) => (trigger.kind === 'queue' ? [trigger.queue] : []));
  return Object.assign(
    {},
    ...granted.map(([name]) => tableVariables(tableByName(name as TableName), sources.tableName(name as TableName))),
    ...(access.sendsTo ?? []).map(queue),
    ...consumed.map(queue),
    ...(access.redrivesDeadLetters ? redriveQueueNames().map(queue) : []),
    access.schedules ? schedule('delivery', 'scheduler-dlq') : {},
    access.schedulesBroadcasts ? schedule('fanout', 'fanout-dlq') : {},
    access.sendsEmail ? emailVariables(settings.emailFrom, sources.emailConfigurationSet) : {},
    access.postsToConnections ? connectionVariables(sources.websocketCallbackUrl) : {},
    access.pushes ? pushVariables(settings.push, sources.vapidSecretArn, settings.emailFrom) : {},
    access.sendsTelegram ? telegramVariables(sources.telegram) : {},
    access.postsWebhooks ? webhookVariables(sources.webhookTargets) : {},
    access.settings?.includes('retry') ? retryPolicyVariables(settings.retry) : {},
    access.settings?.includes('sweeps') ? sweepVariables(settings.sweeps) : {},
    access.settings?.includes('delivery') ? deliveryVariables(settings.delivery) : {},
    access.settings?.includes('sendBudgets') ? sendBudgetVariables(settings.delivery) : {},
    access.settings?.includes('selfSend') ? selfSendVariables(settings.selfSend) : {},
    access.settings?.includes('claims') ? claimsVariables(settings.claims) : {},
    access.settings?.includes('requestQuota') ? requestQuotaVariables(settings.api.tenantRequestsPerSecond) : {},
    access.verifiesTokens
      ? tokenVerificationVariables({ issuer: settings.jwtIssuer, audience: settings.jwtAudience, jwksUrl: settings.jwksUrl })
      : {},
  ) as Variables;
}
