/**
 * Herald's functions on the local stack, each in its own sandbox (a worker thread, see
 * local/lambda-runtime.ts) that is told exactly the variables the CDK sets for that function
 * (lib/function-environment.ts), with local values, plus the SDK's standard
 * `AWS_ENDPOINT_URL_<SERVICE>` variables. Nothing is written to the process's own environment, so
 * two stacks can run side by side in one process.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { scheduleGroupName } from '../lib/app-description.ts';
import { configVariables } from '../shared/config.ts';
import type { FunctionDescription, QueueName } from '../lib/app-description.ts';
import { functionEnvironment } from '../lib/function-environment.ts';
import type { EnvironmentSources, QueueLocation, Variables } from '../lib/function-environment.ts';
import { readHeraldSettingsFrom } from '../lib/stacks/herald-settings.ts';
import type { HeraldSettings } from '../lib/stacks/herald-settings.ts';
import { LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER } from './jwt-keys.ts';
import { localEmailConfigurationSet } from './ses-feedback.ts';
import { LOCAL_ACCOUNT_ID, loadFunction } from './lambda-runtime.ts';
import type { LogFormat } from './log-format.ts';
import type { InitializationType, LocalFunction } from './lambda-runtime.ts';

const repositoryRoot = resolve(import.meta.dirname, '..');

/** The endpoints the functions' SDK clients are pointed at, by the SDK's service ids. */
export interface FunctionEndpoints {
  readonly dynamodb: string;
  readonly sqs: string;
  readonly ses: string;
  readonly scheduler: string;
  readonly sns: string;
  readonly secretsmanager: string;
}

export interface FunctionWorkersOptions {
  /** The values behind the functions' variables (see `localEnvironmentSources`). */
  readonly sources: EnvironmentSources;
  readonly endpoints: FunctionEndpoints;
  readonly region: string;
  /** Given to every function, last (`LocalStackOptions.environment`). @default none */
  readonly overrides?: Variables;
  /** Told each EMF line a function prints (its metrics). @default ignored */
  readonly onMetrics?: (line: string) => void;
  /** How the functions' log lines are written. @default 'json' */
  readonly logFormat?: LogFormat;
  /** Told what any function publishes on a forwarded diagnostics channel. @default ignored */
  readonly onPublished?: (channel: string, message: unknown) => void;
  /** File descriptors the functions' stdout and stderr go to. @default the process's own, 1 and 2 */
  readonly output?: { readonly stdout: number; readonly stderr: number };
  /** When each function's first sandbox starts. @default 'on-demand', at its first invocation */
  readonly initialization?: InitializationType;
}

/**
 * The settings a deployment gets by default, cdk.json's context: locally the functions run with
 * the same retry policy and sweep bounds. Throws a SettingsError when cdk.json is malformed.
 */
export function defaultDeploymentSettings(): HeraldSettings {
  const cdkJson = JSON.parse(readFileSync(resolve(repositoryRoot, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return readHeraldSettingsFrom((key) => cdkJson.context?.[key]);
}

/**
 * The local values of the functions' variables: local physical names and queue URLs, the local
 * token issuer, a local sender address, and a 2 s scheduler lead (the emulator fires on the
 * second; a small lead still exercises the hold-until-due path). Throws, naming the queue, when
 * a function is told of a queue that was not created.
 */
export function localEnvironmentSources(input: {
  readonly physicalName: (name: string) => string;
  readonly queues: ReadonlyMap<string, QueueLocation>;
  readonly websocketCallbackUrl: string;
  readonly jwksUrl: string;
  readonly vapidSecretArn: string;
  /** The local Telegram Bot API and the name of the bot token's secret in the local Secrets Manager. */
  readonly telegram: { readonly apiUrl: string; readonly tokenSecret: string };
  /** The requests a tenant may make per second through the HTTP API; 0 turns the quota off. @default cdk.json's */
  readonly tenantRequestsPerSecond?: number;
}): EnvironmentSources {
  const defaults = defaultDeploymentSettings();
  return {
    settings: {
      ...defaults,
      ...(input.tenantRequestsPerSecond !== undefined ? { api: { ...defaults.api, tenantRequestsPerSecond: input.tenantRequestsPerSecond } } : {}),
      jwtIssuer: LOCAL_JWT_ISSUER,
      jwtAudience: LOCAL_JWT_AUDIENCE,
      jwksUrl: input.jwksUrl,
      emailFrom: 'notifications@herald.local',
      schedulerLeadSeconds: 2,
      // The local SNS knows these two applications (local/stack.ts).
      push: { fcmApplicationArn: localPlatformApplications.fcm, apnsApplicationArn: localPlatformApplications.apns },
    },
    tableName: (table) => input.physicalName(table),
    queue: (name: QueueName) => {
      const location = input.queues.get(name);
      if (!location) throw new Error(`The local stack created no queue named ${name}`);
      return location;
    },
    scheduler: { groupName: scheduleGroupName, roleArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${input.physicalName('scheduler')}` },
    websocketCallbackUrl: input.websocketCallbackUrl,
    emailConfigurationSet: localEmailConfigurationSet,
    vapidSecretArn: input.vapidSecretArn,
    telegram: input.telegram,
    // Locally webhooks go to whatever the developer runs: localhost and plain http included.
    webhookTargets: 'any',
  };
}

/** The SDK timeouts the local functions get (ms): generous, since nothing local hangs for good. */
export const localSdkTimeouts: Variables = { HERALD_SDK_CONNECTION_TIMEOUT_MS: '20000', HERALD_SDK_REQUEST_TIMEOUT_MS: '60000' };
/** The SNS platform applications of the local stack, one per mobile platform. */
export const localPlatformApplications = {
  fcm: `arn:aws:sns:us-east-1:${LOCAL_ACCOUNT_ID}:app/GCM/herald-local`,
  apns: `arn:aws:sns:us-east-1:${LOCAL_ACCOUNT_ID}:app/APNS/herald-local`,
} as const;

/** What one function's sandbox is configured with locally: the SDK's endpoints, its own variables, the overrides. */
export function localFunctionEnvironment(fn: FunctionDescription, options: Omit<FunctionWorkersOptions, 'region'>): Variables {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: options.endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: options.endpoints.sqs,
    AWS_ENDPOINT_URL_SES: options.endpoints.ses,
    // SES API v2 (GetAccount) has its own variable; the local SES serves both versions.
    AWS_ENDPOINT_URL_SESV2: options.endpoints.ses,
    // The emulators share one loaded machine's event loop, where a connection can wait seconds to
    // be accepted: AWS's timeouts (sdk-clients.ts) would time out calls that are merely queued.
    ...localSdkTimeouts,
    AWS_ENDPOINT_URL_SCHEDULER: options.endpoints.scheduler,
    AWS_ENDPOINT_URL_SNS: options.endpoints.sns,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: options.endpoints.secretsmanager,
    // The local Web Push service speaks plain http on 127.0.0.1; on AWS endpoints are https only.
    [configVariables.pushAllowHttpLoopback]: 'true',
    ...functionEnvironment(fn, options.sources),
    ...options.overrides,
  };
}

/**
 * Every function, each in its own sandbox, by logical name. With `initialization`
 * `provisioned-concurrency` the sandboxes start now, all at once, and if one cannot be loaded the
 * others are stopped and the promise rejects with its error; `on-demand` (the default, as on Lambda)
 * starts each at its function's first invocation.
 */
export async function startFunctionWorkers(
  descriptions: readonly FunctionDescription[],
  options: FunctionWorkersOptions,
): Promise<Record<string, LocalFunction>> {
  const loading = await Promise.allSettled(
    descriptions.map((fn) =>
      loadFunction(fn, {
        region: options.region,
        environment: localFunctionEnvironment(fn, options),
        ...(options.logFormat ? { logFormat: options.logFormat } : {}),
        ...(options.onPublished ? { onPublished: options.onPublished } : {}),
        ...(options.onMetrics ? { onMetrics: options.onMetrics } : {}),
        ...(options.output ? { output: options.output } : {}),
        ...(options.initialization ? { initialization: options.initialization } : {}),
      }),
    ),
  );
  const loaded = loading.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = loading.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(loaded.map((fn) => fn.stop()));
    throw failure.reason;
  }
  return Object.fromEntries(descriptions.map((fn, index) => [fn.name, loaded[index] as LocalFunction]));
}
