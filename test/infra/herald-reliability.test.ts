/**
 * What delivery reliability needs from the deployment: the sweeps' EventBridge rules, a DLQ
 * behind every queue with its two alarms, the retry policy and sweep bounds from CDK context in
 * the right functions' environment, least privilege for the new access, and TTL that never
 * touches a pending notification.
 */
import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { queues, tableByName } from '../../lib/app-description.ts';
import { readHeraldSettings, SettingsError, contextKeys } from '../../lib/stacks/herald-settings.ts';
import { configVariables } from '../../shared/config.ts';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald, testContext, testSettings } from './synth.ts';
import {
  environmentOf,
  functionLogicalId,
  prop,
  referencedLogicalIds,
  resolveImports,
  resourcesOfType,
  statementsAllowing,
  statementsOfFunction,
} from './template-queries.ts';

const physical = (name: string): string => `herald-${testSettings.stage}-${name}`;

let herald: SynthesisedHerald;
beforeAll(() => {
  herald = synthesiseHerald();
});

function queueLogicalId(name: string): string {
  const found = resourcesOfType(herald.data, 'AWS::SQS::Queue').find(([, q]) => prop(q, 'QueueName') === physical(name));
  if (!found) throw new Error(`No queue ${physical(name)}`);
  return found[0];
}

/** The data-stack logical ids the statements allowing `action` to a function point at. */
function resourcesAllowed(functionName: string, action: string): string[] {
  const statements = statementsAllowing(statementsOfFunction(herald.service, physical(functionName)), action);
  return statements.flatMap((s) => referencedLogicalIds(resolveImports(s.resources, herald.data)));
}

describe('the sweeps', () => {
  it.each([
    ['stuck-retry', 'stuck-retry', 'rate(5 minutes)'],
    ['cleanup', 'cleanup', 'cron(0 3 * * ? *)'],
  ])('runs %s on an EventBridge rule %s, %s', (fn, rule, schedule) => {
    const fnId = functionLogicalId(herald.service, physical(fn));
    herald.service.hasResourceProperties('AWS::Events::Rule', {
      Name: physical(rule),
      ScheduleExpression: schedule,
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })],
    });
    herald.service.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
  });

  it('tells the sweeps their bounds from context, and the deliver function none of them', () => {
    for (const fn of ['stuck-retry', 'cleanup']) {
      expect(environmentOf(herald.service, physical(fn))).toMatchObject({
        [configVariables.stuckAfterSeconds]: String(testSettings.sweeps.stuckAfterSeconds),
        [configVariables.sweepMaxItems]: String(testSettings.sweeps.sweepMaxItems),
        [configVariables.cancelledRetentionDays]: String(testSettings.sweeps.cancelledRetentionDays),
        [configVariables.cleanupMaxItems]: String(testSettings.sweeps.cleanupMaxItems),
      });
    }
    expect(environmentOf(herald.service, physical('deliver'))).not.toHaveProperty(configVariables.stuckAfterSeconds);
  });

  it('lets stuck-retry read the notifications and the broadcasts, send to the delivery and fan-out queues, and no more', () => {
    const statements = statementsOfFunction(herald.service, physical('stuck-retry'));
    for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'ses:SendEmail', 'sqs:ReceiveMessage', 'scheduler:CreateSchedule']) {
      expect(statementsAllowing(statements, action), action).toEqual([]);
    }
    expect(resourcesAllowed('stuck-retry', 'sqs:SendMessage').sort()).toEqual([queueLogicalId('delivery'), queueLogicalId('fanout')].sort());
    const tableId = (name: string): string | undefined =>
      resourcesOfType(herald.data, 'AWS::DynamoDB::Table').find(([, t]) => prop(t, 'TableName') === physical(name))?.[0];
    const queried = resourcesAllowed('stuck-retry', 'dynamodb:Query');
    expect(queried).toContain(tableId('notifications'));
    expect(queried).toContain(tableId('broadcasts'));
    expect(new Set(queried)).toEqual(new Set([tableId('notifications'), tableId('broadcasts')]));
  });

  it('lets cleanup delete notifications, but send nothing anywhere', () => {
    const statements = statementsOfFunction(herald.service, physical('cleanup'));
    expect(statementsAllowing(statements, 'dynamodb:DeleteItem')).not.toEqual([]);
    for (const action of ['sqs:SendMessage', 'ses:SendEmail', 'scheduler:CreateSchedule']) {
      expect(statementsAllowing(statements, action), action).toEqual([]);
    }
  });
});

describe('dead letters', () => {
  it('puts a dead-letter queue behind every queue that is not one itself', () => {
    const feeds = queues.filter((q) => !q.deadLetters);
    for (const queue of feeds) {
      expect(queue.deadLetter, queue.name).toBeDefined();
      herald.data.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: physical(queue.name),
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [queueLogicalId(queue.deadLetter?.queue ?? ''), 'Arn'] },
          maxReceiveCount: queue.deadLetter?.maxReceiveCount,
        },
      });
    }
    // The scheduler's dead letters have their queue too, named in every schedule.
    expect(queues.find((q) => q.name === 'scheduler-dlq')?.deadLetters).toBeDefined();
  });

  it.each(queues.filter((q) => q.deadLetters).map((q) => [q.name, q.deadLetters?.oldestMessageAlarmSeconds ?? 0] as const))(
    'alarms as soon as a message is visible on %s, and when its oldest is older than %i s',
    (name, maxAge) => {
      const dimensions = [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueLogicalId(name), 'QueueName'] } }];
      herald.data.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: physical(`${name}-messages-visible`),
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: dimensions,
        Statistic: 'Maximum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      herald.data.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: physical(`${name}-oldest-message-age`),
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: dimensions,
        Threshold: maxAge,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    },
  );

  it('alarms on dead-letter queues only', () => {
    const alarmed = resourcesOfType(herald.data, 'AWS::CloudWatch::Alarm').length;
    expect(alarmed).toBe(2 * queues.filter((q) => q.deadLetters).length);
  });

  it('lets the deliver function send to its DLQ, and tells it the URL', () => {
    expect(resourcesAllowed('deliver', 'sqs:SendMessage')).toContain(queueLogicalId('delivery-dlq'));
    const env = environmentOf(herald.service, physical('deliver'));
    expect(referencedLogicalIds(resolveImports(env.HERALD_QUEUE_DELIVERY_DLQ_URL, herald.data))).toEqual([queueLogicalId('delivery-dlq')]);
  });
});

describe('the retry policy', () => {
  it('comes from CDK context into the deliver function environment', () => {
    expect(environmentOf(herald.service, physical('deliver'))).toMatchObject({
      [configVariables.retryBaseSeconds]: String(testSettings.retry.baseSeconds),
      [configVariables.retryFactor]: String(testSettings.retry.factor),
      [configVariables.retryMaxRetries]: String(testSettings.retry.maxRetries),
      [configVariables.retryJitter]: String(testSettings.retry.jitter),
      [configVariables.retryCapSeconds]: String(testSettings.retry.capSeconds),
    });
    expect(environmentOf(herald.service, physical('api'))).not.toHaveProperty(configVariables.retryBaseSeconds);
  });

  it('defaults in cdk.json to retries after 5, 10 and 20 minutes with 10 % jitter, capped at 12 hours', () => {
    const settings = readHeraldSettings(
      new App({
        context: testContext({
          [contextKeys.retryBaseSeconds]: 300,
          [contextKeys.retryFactor]: 2,
          [contextKeys.retryMaxRetries]: 3,
          [contextKeys.retryJitter]: 0.1,
          [contextKeys.retryCapSeconds]: 43_200,
        }),
      }),
    );
    expect(settings.retry).toEqual({ baseSeconds: 300, factor: 2, maxRetries: 3, jitter: 0.1, capSeconds: 43_200 });
  });

  it('accepts values as `-c` passes them, as strings', () => {
    const settings = readHeraldSettings(new App({ context: testContext({ [contextKeys.retryFactor]: '1.5', [contextKeys.sweepMaxItems]: '250' }) }));
    expect(settings.retry.factor).toBe(1.5);
    expect(settings.sweeps.sweepMaxItems).toBe(250);
  });

  it.each([
    [contextKeys.retryFactor, 0.5],
    [contextKeys.retryJitter, 2],
    [contextKeys.retryMaxRetries, 1.5],
    [contextKeys.retryCapSeconds, 50_000],
    [contextKeys.sweepMaxItems, 0],
    [contextKeys.stuckAfterSeconds, 'soon'],
    [contextKeys.cancelledRetentionDays, undefined],
  ])('refuses %s = %j, naming it', (key, value) => {
    const app = new App({ context: testContext({ [key]: value }) });
    expect(() => readHeraldSettings(app)).toThrow(SettingsError);
    expect(() => readHeraldSettings(app)).toThrow(key);
  });
});

describe('expiry', () => {
  it('expires notifications by TTL on expiresAt, which only sent and failed ones carry', () => {
    herald.data.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: physical('notifications'),
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(tableByName('notifications').ttlAttribute).toBe('expiresAt');
  });

  it('keeps cancelled notifications findable by the cleanup sweep, in a sharded sparse index', () => {
    herald.data.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: physical('notifications'),
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'cancelled',
          KeySchema: [
            { AttributeName: 'cancelledShard', KeyType: 'HASH' },
            { AttributeName: 'cancelledAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        }),
      ]),
    });
  });
});
