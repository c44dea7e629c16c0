import { describe, expect, it } from 'vitest';
import { functions } from '../../../lib/app-description.ts';
import type { FunctionDescription } from '../../../lib/app-description.ts';
import { functionEnvironment } from '../../../lib/function-environment.ts';
import type { EnvironmentSources } from '../../../lib/function-environment.ts';

/** Values that name where they came from, so a test can tell which source filled a variable. */
const sources: EnvironmentSources = {
  settings: {
    jwtIssuer: 'https://issuer.test/',
    jwtAudience: 'herald-test',
    jwksUrl: 'https://issuer.test/jwks.json',
    emailFrom: 'sender@herald.test',
    schedulerLeadSeconds: 45,
    schedulerFiresPerSecond: 2500,
    retry: { baseSeconds: 30, factor: 3, maxRetries: 5, jitter: 0.25, capSeconds: 3600 },
    sweeps: { stuckAfterSeconds: 120, sweepMaxItems: 500, cancelledRetentionDays: 7, cleanupMaxItems: 2000 },
    delivery: { holdMs: 1500, ses: {}, sms: {} },
    selfSend: { userPerHour: 60, tenantPerHour: 1000 },
    claims: { tenantClaim: 'custom:tenant', roleClaim: 'cognito:groups', singleTenant: false },
    api: { tenantRequestsPerSecond: 25 },
    push: {},
  },
  tableName: (table) => `table-${table}`,
  queue: (queue) => ({ url: `https://sqs.test/${queue}`, arn: `arn:sqs:${queue}` }),
  scheduler: { groupName: 'group-test', roleArn: 'arn:iam:role/scheduler' },
  websocketCallbackUrl: 'https://ws.test/live',
  emailConfigurationSet: 'herald-test-feedback',
  vapidSecretArn: 'arn:secretsmanager:vapid',
  telegram: { tokenSecret: 'telegram-token', apiUrl: 'https://telegram.test' },
  webhookTargets: 'public-https',
};

function described(name: string): FunctionDescription {
  const fn = functions.find((candidate) => candidate.name === name);
  if (!fn) throw new Error(`No function ${name} in the description`);
  return fn;
}

describe('the environment of a function', () => {
  it('names the tables and queues it may touch and the settings it reads, nothing else', () => {
    // Act
    const environment = functionEnvironment(described('stuck-retry'), sources);

    // Assess
    expect(environment).toEqual({
      HERALD_TABLE_NOTIFICATIONS: 'table-notifications',
      HERALD_TABLE_BROADCASTS: 'table-broadcasts',
      HERALD_QUEUE_DELIVERY_URL: 'https://sqs.test/delivery',
      HERALD_QUEUE_DELIVERY_ARN: 'arn:sqs:delivery',
      HERALD_QUEUE_FANOUT_URL: 'https://sqs.test/fanout',
      HERALD_QUEUE_FANOUT_ARN: 'arn:sqs:fanout',
      HERALD_STUCK_AFTER_SECONDS: '120',
      HERALD_SWEEP_MAX_ITEMS: '500',
      HERALD_CANCELLED_RETENTION_DAYS: '7',
      HERALD_CLEANUP_MAX_ITEMS: '2000',
    });
  });

  it('tells a function that schedules the group, role and lead time, the target queue, and only the ARN of the dead-letter queue', () => {
    // Prepare
    const scheduling: FunctionDescription = { ...described('api'), access: { schedules: true } };

    // Act
    const environment = functionEnvironment(scheduling, sources);

    // Assess
    expect(environment).toEqual({
      HERALD_SCHEDULE_GROUP: 'group-test',
      HERALD_SCHEDULER_ROLE_ARN: 'arn:iam:role/scheduler',
      HERALD_SCHEDULER_LEAD_SECONDS: '45',
      HERALD_SCHEDULER_FIRES_PER_SECOND: '2500',
      HERALD_QUEUE_DELIVERY_URL: 'https://sqs.test/delivery',
      HERALD_QUEUE_DELIVERY_ARN: 'arn:sqs:delivery',
      HERALD_QUEUE_SCHEDULER_DLQ_ARN: 'arn:sqs:scheduler-dlq',
    });
  });

  it('tells a function that schedules broadcasts about the fan-out queue and its dead-letter queue', () => {
    // Prepare
    const scheduling: FunctionDescription = { ...described('api'), access: { schedulesBroadcasts: true } };

    // Act
    const environment = functionEnvironment(scheduling, sources);

    // Assess
    expect(environment).toMatchObject({
      HERALD_QUEUE_FANOUT_URL: 'https://sqs.test/fanout',
      HERALD_QUEUE_FANOUT_ARN: 'arn:sqs:fanout',
      HERALD_QUEUE_FANOUT_DLQ_ARN: 'arn:sqs:fanout-dlq',
    });
    expect(environment).not.toHaveProperty('HERALD_QUEUE_FANOUT_DLQ_URL');
  });

  it('tells a consumer where the queue it consumes is, and a sender its address and connections endpoint', () => {
    // Act
    const environment = functionEnvironment(described('broadcast-deliver'), sources);

    // Assess
    expect(environment).toMatchObject({
      HERALD_QUEUE_BROADCAST_DELIVERY_URL: 'https://sqs.test/broadcast-delivery',
      HERALD_QUEUE_BROADCAST_DELIVERY_ARN: 'arn:sqs:broadcast-delivery',
      HERALD_EMAIL_FROM: 'sender@herald.test',
      HERALD_WS_CALLBACK_URL: 'https://ws.test/live',
      HERALD_RETRY_BASE_SECONDS: '30',
      HERALD_RETRY_FACTOR: '3',
      HERALD_RETRY_MAX_RETRIES: '5',
      HERALD_RETRY_JITTER: '0.25',
      HERALD_RETRY_CAP_SECONDS: '3600',
    });
  });

  it('tells a token verifier the issuer, audience, key set and claim names, and nothing of any table', () => {
    // Act
    const environment = functionEnvironment(described('ws-authorizer'), sources);

    // Assess
    expect(environment).toEqual({
      HERALD_JWT_ISSUER: 'https://issuer.test/',
      HERALD_JWT_AUDIENCE: 'herald-test',
      HERALD_JWKS_URL: 'https://issuer.test/jwks.json',
      HERALD_TENANT_CLAIM: 'custom:tenant',
      HERALD_ROLE_CLAIM: 'cognito:groups',
      HERALD_SINGLE_TENANT: 'false',
    });
  });

  it('is empty for a function granted nothing', () => {
    // Prepare
    const bare: FunctionDescription = { ...described('ws-default'), access: {} };

    // Act
    const environment = functionEnvironment(bare, sources);

    // Assess
    expect(environment).toEqual({});
  });

  it('refuses a table the description does not hold', () => {
    // Prepare
    const strange = { ...described('ws-connect'), access: { tables: { ledger: 'read' } } } as unknown as FunctionDescription;

    // Act
    const reading = (): unknown => functionEnvironment(strange, sources);

    // Assess
    expect(reading).toThrow('No table named ledger in the app description');
  });
});
