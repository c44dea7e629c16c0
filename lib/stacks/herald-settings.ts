import type { Construct } from 'constructs';
import type { ClaimsConfig } from '../../shared/config.ts';
import type { RetryPolicy } from '../../shared/domain/retry-policy.ts';

/** The CDK context keys Herald reads; their defaults live in cdk.json, nowhere else. */
export const contextKeys = {
  stage: 'herald:stage',
  jwtIssuer: 'herald:jwtIssuer',
  jwtAudience: 'herald:jwtAudience',
  jwksUrl: 'herald:jwksUrl',
  emailFrom: 'herald:emailFrom',
  schedulerLeadSeconds: 'herald:schedulerLeadSeconds',
  schedulerFiresPerSecond: 'herald:schedulerFiresPerSecond',
  retryBaseSeconds: 'herald:retryBaseSeconds',
  retryFactor: 'herald:retryFactor',
  retryMaxRetries: 'herald:retryMaxRetries',
  retryJitter: 'herald:retryJitter',
  retryCapSeconds: 'herald:retryCapSeconds',
  stuckAfterSeconds: 'herald:stuckAfterSeconds',
  sweepMaxItems: 'herald:sweepMaxItems',
  cancelledRetentionDays: 'herald:cancelledRetentionDays',
  cleanupMaxItems: 'herald:cleanupMaxItems',
  deliveryHoldMs: 'herald:deliveryHoldMs',
  sesPerSecond: 'herald:sesPerSecond',
  sesTenantPerSecond: 'herald:sesTenantPerSecond',
  smsPerSecond: 'herald:smsPerSecond',
  smsTenantPerSecond: 'herald:smsTenantPerSecond',
  snsPlatformApplicationArnFcm: 'herald:snsPlatformApplicationArnFcm',
  snsPlatformApplicationArnApns: 'herald:snsPlatformApplicationArnApns',
  selfSendUserPerHour: 'herald:selfSendUserPerHour',
  selfSendTenantPerHour: 'herald:selfSendTenantPerHour',
  apiRateLimit: 'herald:apiRateLimit',
  apiBurstLimit: 'herald:apiBurstLimit',
  corsOrigins: 'herald:corsOrigins',
  alarmEmail: 'herald:alarmEmail',
  productionStages: 'herald:productionStages',
  tenantClaim: 'herald:tenantClaim',
  roleClaim: 'herald:roleClaim',
  singleTenant: 'herald:singleTenant',
  tenantRequestsPerSecond: 'herald:tenantRequestsPerSecond',
} as const;

/**
 * Which claims of the identity provider's tokens name the caller's tenant and roles (`tenant` and
 * `role` for Herald's local issuer, `custom:tenant` and `cognito:groups` for Cognito, namespaced
 * URLs for Auth0), and whether a token may name no tenant (single-tenant: it belongs to `default`).
 */
export type ClaimsSettings = ClaimsConfig;

/** What plain users may send themselves (their notifications, verification codes), per hour. */
export interface SelfSendSettings {
  readonly userPerHour: number;
  /** All the plain users of one tenant together. */
  readonly tenantPerHour: number;
}

/** The bounds of the two sweeps. */
export interface SweepSettings {
  /** A pending notification this many seconds past due is put back on the queue. */
  readonly stuckAfterSeconds: number;
  /** At most this many notifications are put back per stuck-retry run. */
  readonly sweepMaxItems: number;
  /** Cancelled notifications are deleted this many days after their cancellation. */
  readonly cancelledRetentionDays: number;
  /** At most this many are deleted per cleanup run. */
  readonly cleanupMaxItems: number;
}

/** How the delivery engine works: its hold, and the providers' send-rate budgets. */
export interface DeliverySettings {
  /** A delivery due within this many ms is waited for in the worker. */
  readonly holdMs: number;
  /**
   * SES sends per second, overall and per tenant. Unset: the account's own maximum send rate,
   * which the functions read from SES (`GetSendQuota`).
   */
  readonly ses: { readonly perSecond?: number; readonly tenantPerSecond?: number };
  /**
   * SMS (SNS Publish) sends per second, overall and per tenant. SNS tells no rate: unset, SMS has
   * no budget and SNS's own throttling is the only brake.
   */
  readonly sms: { readonly perSecond?: number; readonly tenantPerSecond?: number };
}

/** Mobile push: the SNS platform applications devices register with (created outside Herald, with the FCM or APNs credentials). */
export interface PushSettings {
  /** ARN of the FCM platform application (`arn:aws:sns:<region>:<account>:app/GCM/<name>`); unset: no FCM devices. */
  readonly fcmApplicationArn?: string;
  /** ARN of the APNs platform application (`app/APNS/<name>` or `app/APNS_SANDBOX/<name>`); unset: no APNs devices. */
  readonly apnsApplicationArn?: string;
}

/** How the APIs meet the outside world: their stage-level throttling and the browsers they answer. */
export interface ApiSettings {
  /** Steady-state requests per second each API stage accepts, all clients together (then 429). */
  readonly rateLimitPerSecond: number;
  /** Requests a stage accepts in a burst above the steady rate. */
  readonly burstLimit: number;
  /** Origins whose browsers may call the HTTP API (CORS); empty: no CORS answer at all. */
  readonly corsOrigins: readonly string[];
  /** Requests one tenant may make per second through the HTTP API (then 429 with `Retry-After`); 0: no per-tenant quota. */
  readonly tenantRequestsPerSecond: number;
}

/** What operating a stage needs: which stages are production, who hears the alarms. */
export interface OperationsSettings {
  /** Stages whose stateful resources outlive the stack (and whose tables refuse deletion). */
  readonly productionStages: readonly string[];
  /** An address subscribed to the alarm topic; unset: subscribe it yourself. */
  readonly alarmEmail?: string;
}

/** Deployment settings, read once from CDK context. */
export interface HeraldSettings {
  /** Deployment stage (`dev`, `prod`, ...): suffix of every physical name. */
  readonly stage: string;
  /** The `iss` of accepted JWTs, for the HTTP API authorizer and the WebSocket authorizer. */
  readonly jwtIssuer: string;
  /** The `aud` of accepted JWTs. */
  readonly jwtAudience: string;
  /** Where the WebSocket authorizer fetches the issuer's public keys. */
  readonly jwksUrl: string;
  /** The verified SES identity notifications are sent from. */
  readonly emailFrom: string;
  /** How many seconds before a notification is due its schedule fires. */
  readonly schedulerLeadSeconds: number;
  /** Targets EventBridge Scheduler fires per second in the account and region (its invocation quota). */
  readonly schedulerFiresPerSecond: number;
  /** How failed deliveries are retried (backoff base, factor, cap, retries, jitter). */
  readonly retry: RetryPolicy;
  readonly sweeps: SweepSettings;
  readonly delivery: DeliverySettings;
  readonly selfSend: SelfSendSettings;
  readonly claims: ClaimsSettings;
  readonly push: PushSettings;
  readonly api: ApiSettings;
  readonly operations: OperationsSettings;
}

/** The settings the functions' environment is made of: neither the stage nor what only the stacks read (but the per-tenant quota the api function keeps). */
export type FunctionSettings = Omit<HeraldSettings, 'stage' | 'api' | 'operations'> & { readonly api: Pick<ApiSettings, 'tenantRequestsPerSecond'> };

/** True when `settings.stage` is one of the production stages. */
export function isProductionStage(settings: Pick<HeraldSettings, 'stage' | 'operations'>): boolean {
  return settings.operations.productionStages.includes(settings.stage);
}

/** Thrown at synth time when a context value is missing or malformed. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** Reads one context value by key: a construct's context, or cdk.json's for the local stack. */
type ContextReader = (key: string) => unknown;

function readString(context: ContextReader, key: string): string {
  const value: unknown = context(key);
  if (typeof value !== 'string' || value.trim() === '') {
    throw new SettingsError(`CDK context ${key} is missing or empty: set it in cdk.json or pass -c ${key}=...`);
  }
  return value;
}

function readUrl(context: ContextReader, key: string): string {
  const value = readString(context, key);
  // API Gateway only accepts https issuers, and the authorizer only fetches keys over https.
  if (!URL.canParse(value) || new URL(value).protocol !== 'https:') {
    throw new SettingsError(`CDK context ${key} must be an https URL, got ${value}`);
  }
  return value;
}

function readEmail(context: ContextReader, key: string): string {
  const value = readString(context, key);
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) {
    throw new SettingsError(`CDK context ${key} must be an email address, got ${value}`);
  }
  return value;
}

function readSeconds(context: ContextReader, key: string): number {
  const value: unknown = context(key);
  // cdk.json gives a number, `-c key=60` gives a string.
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
    throw new SettingsError(`CDK context ${key} must be a whole number of seconds, got ${String(value)}`);
  }
  return seconds;
}

function readNumber(context: ContextReader, key: string, range: { min: number; max?: number; integer?: boolean }): number {
  const value: unknown = context(key);
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  const fits =
    typeof number === 'number' &&
    Number.isFinite(number) &&
    number >= range.min &&
    (range.max === undefined || number <= range.max) &&
    (!range.integer || Number.isInteger(number));
  if (!fits) {
    const bounds = `${range.integer ? 'a whole number' : 'a number'} >= ${range.min}${range.max === undefined ? '' : ` and <= ${range.max}`}`;
    throw new SettingsError(`CDK context ${key} must be ${bounds}, got ${String(value)}`);
  }
  return number;
}

/** A claim name: one word of printable ASCII (`tenant`, `custom:tenant`, `https://herald.example.com/roles`). */
function readClaimName(context: ContextReader, key: string): string {
  const value = readString(context, key);
  if (!/^[\x21-\x7e]{1,256}$/.test(value)) {
    throw new SettingsError(`CDK context ${key} must be a claim name (1-256 printable characters without spaces), got ${value}`);
  }
  return value;
}

function readBoolean(context: ContextReader, key: string): boolean {
  const value: unknown = context(key);
  // cdk.json gives a boolean, `-c key=true` a string.
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new SettingsError(`CDK context ${key} must be true or false, got ${String(value)}`);
}

// The stage ends up in table, queue, function and group names: keep it short and plain.
const stagePattern = /^[a-z][a-z0-9-]{0,15}$/;

/** Reads Herald's settings from CDK context, naming the key that is missing or malformed. */
export function readHeraldSettings(scope: Construct): HeraldSettings {
  return readHeraldSettingsFrom((key) => scope.node.tryGetContext(key));
}

/**
 * Reads Herald's settings through `context` (key → value, as `-c` or cdk.json gives them); throws
 * a SettingsError naming the key that is missing or malformed.
 */
export function readHeraldSettingsFrom(context: ContextReader): HeraldSettings {
  const stage = readString(context, contextKeys.stage);
  if (!stagePattern.test(stage)) {
    throw new SettingsError(`CDK context ${contextKeys.stage} must match [a-z][a-z0-9-]{0,15}, got ${stage}`);
  }
  const emailFrom = readEmail(context, contextKeys.emailFrom);
  return {
    stage,
    jwtIssuer: readUrl(context, contextKeys.jwtIssuer),
    jwtAudience: readString(context, contextKeys.jwtAudience),
    jwksUrl: readUrl(context, contextKeys.jwksUrl),
    emailFrom,
    schedulerLeadSeconds: readSeconds(context, contextKeys.schedulerLeadSeconds),
    schedulerFiresPerSecond: readNumber(context, contextKeys.schedulerFiresPerSecond, { min: 1, max: 1_000_000, integer: true }),
    retry: {
      baseSeconds: readNumber(context, contextKeys.retryBaseSeconds, { min: 0 }),
      factor: readNumber(context, contextKeys.retryFactor, { min: 1 }),
      maxRetries: readNumber(context, contextKeys.retryMaxRetries, { min: 0, integer: true }),
      jitter: readNumber(context, contextKeys.retryJitter, { min: 0, max: 1 }),
      // SQS caps the visibility timeout that carries a retry at 12 hours.
      capSeconds: readNumber(context, contextKeys.retryCapSeconds, { min: 1, max: 12 * 60 * 60, integer: true }),
    },
    sweeps: {
      stuckAfterSeconds: readSeconds(context, contextKeys.stuckAfterSeconds),
      sweepMaxItems: readNumber(context, contextKeys.sweepMaxItems, { min: 1, integer: true }),
      cancelledRetentionDays: readNumber(context, contextKeys.cancelledRetentionDays, { min: 0, integer: true }),
      cleanupMaxItems: readNumber(context, contextKeys.cleanupMaxItems, { min: 1, integer: true }),
    },
    delivery: {
      holdMs: readNumber(context, contextKeys.deliveryHoldMs, { min: 1_000, max: 10_000, integer: true }),
      ses: {
        ...optional(context, contextKeys.sesPerSecond, (key) => ({ perSecond: readNumber(context, key, { min: 0.1, max: 100_000 }) })),
        ...optional(context, contextKeys.sesTenantPerSecond, (key) => ({ tenantPerSecond: readNumber(context, key, { min: 0.1, max: 100_000 }) })),
      },
      sms: {
        ...optional(context, contextKeys.smsPerSecond, (key) => ({ perSecond: readNumber(context, key, { min: 0.1, max: 100_000 }) })),
        ...optional(context, contextKeys.smsTenantPerSecond, (key) => ({ tenantPerSecond: readNumber(context, key, { min: 0.1, max: 100_000 }) })),
      },
    },
    push: {
      ...optional(context, contextKeys.snsPlatformApplicationArnFcm, (key) => ({ fcmApplicationArn: readPlatformApplicationArn(context, key, 'GCM') })),
      ...optional(context, contextKeys.snsPlatformApplicationArnApns, (key) => ({ apnsApplicationArn: readPlatformApplicationArn(context, key, 'APNS') })),
    },
    selfSend: {
      userPerHour: readNumber(context, contextKeys.selfSendUserPerHour, { min: 1, max: 1_000_000, integer: true }),
      tenantPerHour: readNumber(context, contextKeys.selfSendTenantPerHour, { min: 1, max: 1_000_000, integer: true }),
    },
    claims: {
      tenantClaim: readClaimName(context, contextKeys.tenantClaim),
      roleClaim: readClaimName(context, contextKeys.roleClaim),
      singleTenant: readBoolean(context, contextKeys.singleTenant),
    },
    api: {
      // API Gateway's own account-level defaults (10,000 rps, burst 5,000) bound what a stage may set.
      rateLimitPerSecond: readNumber(context, contextKeys.apiRateLimit, { min: 1, max: 10_000 }),
      burstLimit: readNumber(context, contextKeys.apiBurstLimit, { min: 1, max: 5_000, integer: true }),
      corsOrigins: readOrigins(context, contextKeys.corsOrigins),
      // 0 turns the quota off (no count is written per request).
      tenantRequestsPerSecond: readNumber(context, contextKeys.tenantRequestsPerSecond, { min: 0, max: 100_000, integer: true }),
    },
    operations: {
      productionStages: readStages(context, contextKeys.productionStages),
      ...optional(context, contextKeys.alarmEmail, (key) => ({ alarmEmail: readEmail(context, key) })),
    },
  };
}

/**
 * A list from context: cdk.json gives an array, `-c key=...` a string, either a JSON array
 * (`'["a","b"]'`) or comma-separated (`a,b`); an empty string is the empty list.
 */
function readList(context: ContextReader, key: string): string[] {
  const value: unknown = context(key);
  const parsed: unknown =
    typeof value === 'string' && value.trim().startsWith('[') ? parseJson(value, key) : typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === 'string')) {
    throw new SettingsError(`CDK context ${key} must be a list of strings (a JSON array, or comma-separated), got ${JSON.stringify(value)}`);
  }
  return parsed.map((item) => item.trim()).filter((item) => item !== '');
}

function parseJson(text: string, key: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new SettingsError(`CDK context ${key} is not valid JSON: ${(error as Error).message}`);
  }
}

/** A browser origin as CORS compares it: `https://host[:port]` (http for localhost only), or `*`. */
function readOrigins(context: ContextReader, key: string): string[] {
  const origins = readList(context, key);
  for (const origin of origins) {
    if (origin === '*') continue;
    const url = URL.canParse(origin) ? new URL(origin) : undefined;
    const secure = url?.protocol === 'https:' || (url?.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(url.hostname));
    if (!url || !secure || url.origin !== origin) {
      throw new SettingsError(`CDK context ${key} holds ${origin}, which is no origin: https://host[:port] without a path or trailing slash (http only for localhost), or *`);
    }
  }
  return origins;
}

function readStages(context: ContextReader, key: string): string[] {
  const stages = readList(context, key);
  for (const stage of stages) {
    if (!stagePattern.test(stage)) throw new SettingsError(`CDK context ${key} must list stages matching ${stagePattern.source}, got ${stage}`);
  }
  return stages;
}

/** An SNS platform application ARN of `platform` (APNS also takes APNS_SANDBOX). */
function readPlatformApplicationArn(context: ContextReader, key: string, platform: 'GCM' | 'APNS'): string {
  const value = readString(context, key);
  const pattern = platform === 'GCM' ? /^arn:[\w-]+:sns:[\w-]+:\d{12}:app\/GCM\/[\w.-]+$/ : /^arn:[\w-]+:sns:[\w-]+:\d{12}:app\/APNS(_SANDBOX)?\/[\w.-]+$/;
  if (!pattern.test(value)) throw new SettingsError(`CDK context ${key} must be an SNS platform application ARN (…:app/${platform}/<name>), got ${value}`);
  return value;
}

/** `read(key)` when the context sets `key`, nothing when it does not. */
function optional<T extends object>(context: ContextReader, key: string, read: (key: string) => T): T | Record<string, never> {
  const value: unknown = context(key);
  return value === undefined || value === null || value === '' ? {} : read(key);
}

/** True for domains reserved for documentation (RFC 2606), i.e. cdk.json's placeholders. */
export function isPlaceholderDomain(domain: string): boolean {
  return /(^|\.)(example\.(com|net|org)|example|invalid|test|localhost)$/i.test(domain);
}
