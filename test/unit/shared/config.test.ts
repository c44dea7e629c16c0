import { describe, expect, it } from 'vitest';
import { maxConnectionAgeMs } from '../../../shared/domain/delivery.ts';
import {
  ConfigError,
  configVariables,
  deliveryConfig,
  engineConfig,
  sendBudgetsConfig,
  pushConfig,
  deliveryQueueConfig,
  once,
  retryPolicyConfig,
  schedulerConfig,
  tableNames,
  tokenConfig,
  claimsConfig,
} from '../../../shared/config.ts';
import { defaultRetryPolicy } from '../../../shared/domain/retry-policy.ts';

/** The error `read` throws (fails the test when it throws none). */
function errorOf(read: () => unknown): unknown {
  try {
    read();
  } catch (error) {
    return error;
  }
  throw new Error('expected the configuration to be refused');
}

const schedulerEnv = {
  HERALD_SCHEDULE_GROUP: 'herald',
  HERALD_SCHEDULER_ROLE_ARN: 'arn:aws:iam::111122223333:role/scheduler',
  HERALD_QUEUE_DELIVERY_ARN: 'arn:aws:sqs:eu-west-1:111122223333:delivery',
  HERALD_QUEUE_SCHEDULER_DLQ_ARN: 'arn:aws:sqs:eu-west-1:111122223333:scheduler-dlq',
};

describe('configuration', () => {
  it('reads table names from their variables', () => {
    // Prepare
    const env = { HERALD_TABLE_NOTIFICATIONS: 'herald-test-notifications', HERALD_TABLE_INBOX: 'herald-test-inbox' };

    // Act
    const tables = tableNames(env);

    // Assess
    expect(tables.notifications).toBe('herald-test-notifications');
    expect(tables.inbox).toBe('herald-test-inbox');
  });

  it('reads a table name from the environment once, however often it is asked for', () => {
    // Prepare: an environment that counts how often the variable is read.
    let reads = 0;
    const env = {
      get HERALD_TABLE_NOTIFICATIONS(): string {
        reads++;
        return 'herald-test-notifications';
      },
    };
    const tables = tableNames(env);

    // Act
    const names = [tables.notifications, tables.notifications, tables.notifications];

    // Assess
    expect(names).toEqual(['herald-test-notifications', 'herald-test-notifications', 'herald-test-notifications']);
    expect(reads).toBe(1);
  });

  it('fails naming the variable of a table that was not configured', () => {
    // Prepare
    const tables = tableNames({ HERALD_TABLE_NOTIFICATIONS: 'n' });

    // Act
    const error = errorOf(() => tables.recipients);

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('HERALD_TABLE_RECIPIENTS');
  });

  it('fails naming each missing scheduler variable', () => {
    // Prepare
    const env = { HERALD_SCHEDULE_GROUP: 'herald' };

    // Act
    const error = errorOf(() => schedulerConfig(env));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain(configVariables.schedulerRoleArn);
    expect(message).toContain('HERALD_QUEUE_DELIVERY_ARN');
    expect(message).toContain('HERALD_QUEUE_SCHEDULER_DLQ_ARN');
    expect(message).not.toContain(configVariables.scheduleGroup);
  });

  it('fails naming a delivery queue variable that is empty', () => {
    // Prepare
    const env = { HERALD_QUEUE_DELIVERY_URL: '', HERALD_QUEUE_DELIVERY_ARN: 'arn:aws:sqs:eu-west-1:1:delivery' };

    // Act
    const error = errorOf(() => deliveryQueueConfig(env));

    // Assess
    expect((error as ConfigError).message).toContain('HERALD_QUEUE_DELIVERY_URL');
  });

  it('fires schedules 60 s early unless told otherwise', () => {
    // Prepare
    const env = schedulerEnv;

    // Act
    const defaults = schedulerConfig(env);
    const configured = schedulerConfig({ ...env, HERALD_SCHEDULER_LEAD_SECONDS: '45' });

    // Assess
    expect(defaults).toEqual({
      groupName: 'herald',
      roleArn: schedulerEnv.HERALD_SCHEDULER_ROLE_ARN,
      targetArn: schedulerEnv.HERALD_QUEUE_DELIVERY_ARN,
      deadLetterArn: schedulerEnv.HERALD_QUEUE_SCHEDULER_DLQ_ARN,
      leadSeconds: 60,
      firesPerSecond: 1000,
    });
    expect(configured.leadSeconds).toBe(45);
  });

  it('applies delivery defaults: a 60 s lease and 90 days of retention', () => {
    // Prepare
    const env = { HERALD_EMAIL_FROM: 'herald@example.com', HERALD_WS_CALLBACK_URL: 'https://ws.example.com/prod' };

    // Act
    const config = deliveryConfig(env);

    // Assess
    expect(config).toEqual({
      emailFrom: 'herald@example.com',
      websocketCallbackUrl: 'https://ws.example.com/prod',
      leaseSeconds: 60,
      sentRetentionDays: 90,
    });
  });

  it('refuses a sender that is not an email address, naming the variable', () => {
    // Prepare
    const env = { HERALD_EMAIL_FROM: 'herald', HERALD_WS_CALLBACK_URL: 'https://ws.example.com/prod' };

    // Act
    const error = errorOf(() => deliveryConfig(env));

    // Assess
    expect((error as ConfigError).message).toContain('HERALD_EMAIL_FROM');
  });

  it('uses the default retry policy when no retry variable is set', () => {
    // Prepare
    const env = {};

    // Act
    const policy = retryPolicyConfig(env);

    // Assess
    expect(policy).toEqual(defaultRetryPolicy);
  });

  it('parses the retry policy variables', () => {
    // Prepare
    const env = {
      HERALD_RETRY_BASE_SECONDS: '2',
      HERALD_RETRY_FACTOR: '3',
      HERALD_RETRY_MAX_RETRIES: '0',
      HERALD_RETRY_JITTER: '0.25',
    };

    // Act
    const policy = retryPolicyConfig(env);

    // Assess
    expect(policy).toEqual({ baseSeconds: 2, factor: 3, maxRetries: 0, jitter: 0.25, capSeconds: 43_200 });
  });

  it.each([
    ['HERALD_RETRY_JITTER', '1.5'],
    ['HERALD_RETRY_FACTOR', '0.5'],
    ['HERALD_RETRY_MAX_RETRIES', '2.5'],
    ['HERALD_RETRY_BASE_SECONDS', 'soon'],
  ])('refuses %s=%s, naming it', (variable, value) => {
    // Prepare
    const env = { [variable]: value };

    // Act
    const error = errorOf(() => retryPolicyConfig(env));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(variable);
  });

  it('says in words what is wrong with a variable (zod/mini with its English messages), not only which', () => {
    // Act
    const error = errorOf(() => retryPolicyConfig({ HERALD_RETRY_JITTER: '1.5', HERALD_RETRY_MAX_RETRIES: '2.5' }));

    // Assess
    const message = (error as ConfigError).message;
    expect(message).toMatch(/HERALD_RETRY_JITTER: Too big: expected number to be <=1/);
    expect(message).toMatch(/HERALD_RETRY_MAX_RETRIES: Invalid input: expected int/);
    expect(message).not.toContain('Invalid input;');
  });

  it.each([
    ['HERALD_LEASE_SECONDS', () => deliveryConfig({ HERALD_EMAIL_FROM: 'h@example.com', HERALD_WS_CALLBACK_URL: 'https://ws.example.com', HERALD_LEASE_SECONDS: '' })],
    ['HERALD_RETRY_MAX_RETRIES', () => retryPolicyConfig({ HERALD_RETRY_MAX_RETRIES: ' ' })],
    ['HERALD_SCHEDULER_LEAD_SECONDS', () => schedulerConfig({ ...schedulerEnv, HERALD_SCHEDULER_LEAD_SECONDS: '' })],
  ])('refuses a blank %s rather than reading it as 0', (variable, read) => {
    // Prepare: the blank variable comes from the table

    // Act
    const error = errorOf(read);

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(variable);
  });

  it('tries connections a little longer than API Gateway keeps them open', () => {
    // Prepare: a connection's record no longer has a configurable TTL; deliveries skip one older
    // than the domain's bound (its $disconnect was lost)
    const apiGatewayLimitMs = 2 * 60 * 60 * 1000;

    // Act
    const bound = maxConnectionAgeMs;

    // Assess
    expect(bound).toBe(apiGatewayLimitMs + 300_000);
  });

  it('holds a unit due within 2 s by default, and never less than the second a requeue may come early', () => {
    // Prepare
    const variable = configVariables.deliveryHoldMs;

    // Act
    const defaults = engineConfig({});
    const set = engineConfig({ [variable]: '5000' });
    const tooShort = errorOf(() => engineConfig({ [variable]: '999' }));
    const tooLong = errorOf(() => engineConfig({ [variable]: '10001' }));

    // Assess
    expect(defaults).toEqual({ holdMs: 2_000 });
    expect(set).toEqual({ holdMs: 5_000 });
    expect(tooShort).toBeInstanceOf(ConfigError);
    expect((tooShort as ConfigError).message).toContain(variable);
    expect(tooLong).toBeInstanceOf(ConfigError);
  });

  it('sets no send budget unless configured, and reads the SES rates when they are', () => {
    // Prepare
    const env = { [configVariables.sesPerSecond]: '14', [configVariables.sesTenantPerSecond]: '2' };

    // Act
    const none = sendBudgetsConfig({});
    const both = sendBudgetsConfig(env);
    const tenantOnly = sendBudgetsConfig({ [configVariables.sesTenantPerSecond]: '3' });
    const negative = errorOf(() => sendBudgetsConfig({ [configVariables.sesPerSecond]: '-1' }));

    // Assess
    expect(none).toEqual({});
    expect(both).toEqual({ ses: { perSecond: 14, tenantPerSecond: 2 } });
    expect(tenantOnly).toEqual({ ses: { tenantPerSecond: 3 } });
    expect(negative).toBeInstanceOf(ConfigError);
  });

  it('reads the SMS budget beside the SES one, under its provider', () => {
    // Act
    const sms = sendBudgetsConfig({ [configVariables.smsPerSecond]: '20', [configVariables.smsTenantPerSecond]: '4' });
    const zero = errorOf(() => sendBudgetsConfig({ [configVariables.smsPerSecond]: '0' }));

    // Assess
    expect(sms).toEqual({ 'sns-sms': { perSecond: 20, tenantPerSecond: 4 } });
    expect(zero).toBeInstanceOf(ConfigError);
    expect((zero as ConfigError).message).toContain(configVariables.smsPerSecond);
  });

  it('needs the VAPID secret and contact to push, and takes only SNS platform application ARNs', () => {
    // Prepare
    const env = {
      [configVariables.vapidSecretArn]: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:herald-dev-vapid-AbCdEf',
      [configVariables.vapidSubject]: 'mailto:ops@example.com',
      [configVariables.snsPlatformApplicationFcm]: 'arn:aws:sns:eu-west-1:111122223333:app/GCM/herald',
    };

    // Act
    const config = pushConfig(env);
    const noSecret = errorOf(() => pushConfig({ ...env, [configVariables.vapidSecretArn]: '' }));
    const badArn = errorOf(() => pushConfig({ ...env, [configVariables.snsPlatformApplicationApns]: 'arn:aws:sns:eu-west-1:111122223333:mytopic' }));

    // Assess
    expect(config).toEqual({ vapidSecretArn: env[configVariables.vapidSecretArn], vapidSubject: 'mailto:ops@example.com', platformApplications: { fcm: env[configVariables.snsPlatformApplicationFcm] }, allowHttpLoopback: false });
    expect((noSecret as ConfigError).message).toContain(configVariables.vapidSecretArn);
    expect((badArn as ConfigError).message).toContain(configVariables.snsPlatformApplicationApns);
  });

  it('needs an issuer, an audience and a JWKS URL to verify tokens', () => {
    // Prepare
    const env = { HERALD_JWT_ISSUER: 'https://issuer.example.com/', HERALD_JWKS_URL: 'not a url' };

    // Act
    const error = errorOf(() => tokenConfig(env));

    // Assess
    const message = (error as ConfigError).message;
    expect(message).toContain('HERALD_JWT_AUDIENCE');
    expect(message).toContain('HERALD_JWKS_URL');
    expect(message).not.toContain('HERALD_JWT_ISSUER');
  });

  it('reads Herald’s own claim names, multi-tenant, when the deployment names none', () => {
    // Act
    const claims = claimsConfig({});

    // Assess
    expect(claims).toEqual({ tenantClaim: 'tenant', roleClaim: 'role', singleTenant: false });
  });

  it('refuses a claim name with a space and a tenancy that is not true or false, naming both', () => {
    // Prepare
    const env = { HERALD_TENANT_CLAIM: 'custom tenant', HERALD_ROLE_CLAIM: 'cognito:groups', HERALD_SINGLE_TENANT: 'yes' };

    // Act
    const error = errorOf(() => claimsConfig(env));

    // Assess
    const message = (error as ConfigError).message;
    expect(message).toContain('HERALD_TENANT_CLAIM');
    expect(message).toContain('HERALD_SINGLE_TENANT');
    expect(message).not.toContain('HERALD_ROLE_CLAIM');
  });

  it('parses a section once per process', () => {
    // Prepare
    let reads = 0;
    const read = once(() => ++reads);

    // Act
    const first = read();
    const second = read();

    // Assess
    expect([first, second]).toEqual([1, 1]);
    expect(reads).toBe(1);
  });
});
