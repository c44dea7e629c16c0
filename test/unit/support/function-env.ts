/**
 * The environment a Herald function finds on AWS, pointed at a local DynamoDB: every described
 * table by its physical name (here its logical name, as startLocalDynamo creates it), every
 * queue's URL and ARN, and the SDK's own endpoint variable. Set it before a handler is imported:
 * functions read their configuration once per process.
 */
import { queues, tables } from '../../../lib/app-description.ts';

/** The variable of the SES send budget the test environment configures (100 a second). */
export const configuredSesBudget = 'HERALD_RATE_SES_PER_SECOND';

export function localFunctionEnv(dynamoEndpoint: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    HERALD_EMAIL_FROM: 'herald@example.com',
    HERALD_SES_CONFIGURATION_SET: 'herald-test-feedback',
    HERALD_WS_CALLBACK_URL: 'https://ws.example.com/test',
    HERALD_SCHEDULE_GROUP: 'herald-test',
    HERALD_SCHEDULER_ROLE_ARN: 'arn:aws:iam::111122223333:role/herald-test-scheduler',
    // A configured budget: the functions then never ask SES for its quota.
    [configuredSesBudget]: '100',
  };
  for (const table of tables) env[table.envVar] = table.name;
  for (const queue of queues) {
    env[queue.urlEnvVar] = `https://sqs.eu-west-1.amazonaws.com/111122223333/test-${queue.name}`;
    env[queue.arnEnvVar] = `arn:aws:sqs:eu-west-1:111122223333:test-${queue.name}`;
  }
  return { ...env, ...extra };
}
