import type { Construct } from 'constructs';
import type { RetryPolicy } from '../../shared/domain/retry-policy.ts';

/** The CDK context keys Herald reads; their defaults live in cdk.json, nowhere else. */
export const contextKeys = {
  stage: 'herald:stage',
  jwtIssuer: 'herald:jwtIssuer',
  jwtAudience: 'herald:jwtAudience',
  jwksUrl: 'herald:jwksUrl',
  emailFrom: 'herald:emailFrom',
  schedulerLeadSeconds: 'herald:schedulerLeadSeconds',
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
  selfSendUserPerHour: 'herald:selfSendUserPerHour',
  selfSendTenantPerHour: 'herald:selfSendTenantPerHour',
} as const;

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
  /** How failed deliveries are retried (backoff base, factor, cap, retries, jitter). */
  readonly retry: RetryPolicy;
  readonly sweeps: SweepSettings;
  readonly delivery: DeliverySettings;
  readonly selfSend: SelfSendSettings;
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
  // The stage ends up in table, queue, function and group names: keep it short and plain.
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(stage)) {
    throw new SettingsError(`CDK context ${contextKeys.stage} must match [a-z][a-z0-9-]{0,15}, got ${stage}`);
  }
  const emailFrom = readString(context, contextKeys.emailFrom);
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(emailFrom)) {
    throw new SettingsError(`CDK context ${contextKeys.emailFrom} must be an email address, got ${emailFrom}`);
  }
  return {
    stage,
    jwtIssuer: readUrl(context, contextKeys.jwtIssuer),
    jwtAudience: readString(context, contextKeys.jwtAudience),
    jwksUrl: readUrl(context, contextKeys.jwksUrl),
    emailFrom,
    schedulerLeadSeconds: readSeconds(context, contextKeys.schedulerLeadSeconds),
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
    },
    selfSend: {
      userPerHour: readNumber(context, contextKeys.selfSendUserPerHour, { min: 1, max: 1_000_000, integer: true }),
      tenantPerHour: readNumber(context, contextKeys.selfSendTenantPerHour, { min: 1, max: 1_000_000, integer: true }),
    },
  };
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
