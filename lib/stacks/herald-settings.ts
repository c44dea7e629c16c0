import type { Construct } from 'constructs';

/** The CDK context keys Herald reads; their defaults live in cdk.json, nowhere else. */
export const contextKeys = {
  stage: 'herald:stage',
  jwtIssuer: 'herald:jwtIssuer',
  jwtAudience: 'herald:jwtAudience',
  jwksUrl: 'herald:jwksUrl',
  emailFrom: 'herald:emailFrom',
  schedulerLeadSeconds: 'herald:schedulerLeadSeconds',
} as const;

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
}

/** Thrown at synth time when a context value is missing or malformed. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

function readString(scope: Construct, key: string): string {
  const value: unknown = scope.node.tryGetContext(key);
  if (typeof value !== 'string' || value.trim() === '') {
    throw new SettingsError(`CDK context ${key} is missing or empty: set it in cdk.json or pass -c ${key}=...`);
  }
  return value;
}

function readUrl(scope: Construct, key: string): string {
  const value = readString(scope, key);
  // API Gateway only accepts https issuers, and the authorizer only fetches keys over https.
  if (!URL.canParse(value) || new URL(value).protocol !== 'https:') {
    throw new SettingsError(`CDK context ${key} must be an https URL, got ${value}`);
  }
  return value;
}

function readSeconds(scope: Construct, key: string): number {
  const value: unknown = scope.node.tryGetContext(key);
  // cdk.json gives a number, `-c key=60` gives a string.
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
    throw new SettingsError(`CDK context ${key} must be a whole number of seconds, got ${String(value)}`);
  }
  return seconds;
}

/** Reads Herald's settings from CDK context, naming the key that is missing or malformed. */
export function readHeraldSettings(scope: Construct): HeraldSettings {
  const stage = readString(scope, contextKeys.stage);
  // The stage ends up in table, queue, function and group names: keep it short and plain.
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(stage)) {
    throw new SettingsError(`CDK context ${contextKeys.stage} must match [a-z][a-z0-9-]{0,15}, got ${stage}`);
  }
  const emailFrom = readString(scope, contextKeys.emailFrom);
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(emailFrom)) {
    throw new SettingsError(`CDK context ${contextKeys.emailFrom} must be an email address, got ${emailFrom}`);
  }
  return {
    stage,
    jwtIssuer: readUrl(scope, contextKeys.jwtIssuer),
    jwtAudience: readString(scope, contextKeys.jwtAudience),
    jwksUrl: readUrl(scope, contextKeys.jwksUrl),
    emailFrom,
    schedulerLeadSeconds: readSeconds(scope, contextKeys.schedulerLeadSeconds),
  };
}

/** True for domains reserved for documentation (RFC 2606), i.e. cdk.json's placeholders. */
export function isPlaceholderDomain(domain: string): boolean {
  return /(^|\.)(example\.(com|net|org)|example|invalid|test|localhost)$/i.test(domain);
}
