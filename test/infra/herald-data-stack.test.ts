import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { functions, projectionOf, queueByName, queues, scheduleGroupName, tables } from '../../lib/app-description.ts';
import type { KeyAttribute } from '../../lib/app-description.ts';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald, testEnv, testSettings } from './synth.ts';
import { prop, resourcesOfType, statementsOfRole } from './template-queries.ts';

const physical = (name: string): string => `herald-${testSettings.stage}-${name}`;

function keySchema(partitionKey: KeyAttribute, sortKey?: KeyAttribute): unknown[] {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' }] : []),
  ];
}

function queueLogicalId(herald: SynthesisedHerald, name: string): string {
  const found = resourcesOfType(herald.data, 'AWS::SQS::Queue').find(
    ([, queue]) => prop(queue, 'QueueName') === physical(name),
  );
  if (!found) throw new Error(`No queue ${physical(name)}`);
  return found[0];
}

describe('the data stack tables', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it.each(tables.map((t) => [t.name, t] as const))(
    'builds %s on demand with the described keys, indexes and TTL',
    (_name, table) => {
      herald.data.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: physical(table.name),
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: keySchema(table.partitionKey, table.sortKey),
        GlobalSecondaryIndexes:
          table.indexes.length === 0
            ? Match.absent()
            : table.indexes.map((index) => ({
                IndexName: index.name,
                KeySchema: keySchema(index.partitionKey, index.sortKey),
                Projection: projectionOf(index),
              })),
        TimeToLiveSpecification: table.ttlAttribute
          ? { AttributeName: table.ttlAttribute, Enabled: true }
          : Match.absent(),
      });
    },
  );

  it('keeps every table recoverable to the second, on every stage (what outlives the stack: test/infra/retention.test.ts)', () => {
    const built = resourcesOfType(herald.data, 'AWS::DynamoDB::Table');
    expect(built).toHaveLength(tables.length);
    for (const [, table] of built) {
      expect(prop(table, 'PointInTimeRecoverySpecification')).toEqual({ PointInTimeRecoveryEnabled: true });
    }
  });
});

describe('the data stack queues', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it.each(queues.filter((q) => q.deadLetter).map((q) => [q.name, q] as const))(
    'moves a message of %s to its dead-letter queue after the described receive count',
    (_name, queue) => {
      const deadLetter = queue.deadLetter;
      if (!deadLetter) throw new Error('filtered above');
      herald.data.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: physical(queue.name),
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [queueLogicalId(herald, deadLetter.queue), 'Arn'] },
          maxReceiveCount: deadLetter.maxReceiveCount,
        },
      });
    },
  );

  it('attaches a dead-letter queue to every queue a function consumes', () => {
    const consumed = new Set(functions.flatMap((fn) => fn.triggers.flatMap((t) => (t.kind === 'queue' ? [t.queue] : []))));
    expect(consumed.size).toBeGreaterThan(0);
    for (const name of consumed) {
      const deadLetter = queueByName(name).deadLetter;
      expect(deadLetter, `${name} is consumed, so the description must give it a dead-letter queue`).toBeDefined();
      herald.data.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: physical(name),
        RedrivePolicy: Match.objectLike({ maxReceiveCount: deadLetter?.maxReceiveCount }),
      });
    }
  });

  it.each(queues.map((q) => [q.name, q] as const))(
    'builds %s encrypted at rest with the described visibility and retention',
    (_name, queue) => {
      herald.data.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: physical(queue.name),
        SqsManagedSseEnabled: true,
        VisibilityTimeout: queue.visibilityTimeoutSeconds,
        MessageRetentionPeriod: queue.retentionDays * 24 * 60 * 60,
      });
    },
  );

  it('refuses plain-HTTP access to every queue', () => {
    for (const queue of queues) {
      herald.data.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueLogicalId(herald, queue.name) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });
});

describe('the scheduler group and its execution role', () => {
  let herald: SynthesisedHerald;
  let roleId: string;
  beforeAll(() => {
    herald = synthesiseHerald();
    const roles = resourcesOfType(herald.data, 'AWS::IAM::Role');
    const [only] = roles;
    if (!only || roles.length !== 1) throw new Error('The data stack should hold exactly the scheduler role');
    roleId = only[0];
  });

  it('names the group after the description and the stage (kept on production stages: test/infra/retention.test.ts)', () => {
    const groups = resourcesOfType(herald.data, 'AWS::Scheduler::ScheduleGroup');
    expect(groups).toHaveLength(1);
    const group = groups[0]?.[1];
    expect(group && prop(group, 'Name')).toBe(`${scheduleGroupName}-${testSettings.stage}`);
  });

  it('may only be assumed by EventBridge Scheduler, for this account and this group', () => {
    const [groupId] = resourcesOfType(herald.data, 'AWS::Scheduler::ScheduleGroup').map(([id]) => id);
    herald.data.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: {
                'aws:SourceAccount': testEnv.account,
                'aws:SourceArn': { 'Fn::GetAtt': [groupId, 'Arn'] },
              },
            },
          },
        ],
      },
    });
  });

  it('may only send messages, and only to the queues schedules target (delivery, fan-out) and their dead-letter queues', () => {
    // Inline and attached policies alike: nothing may widen the role behind this test's back.
    const statements = statementsOfRole(herald.data, roleId);
    expect(statements).toEqual([
      {
        effect: 'Allow',
        actions: ['sqs:SendMessage'],
        resources: [
          { 'Fn::GetAtt': [queueLogicalId(herald, 'delivery'), 'Arn'] },
          { 'Fn::GetAtt': [queueLogicalId(herald, 'fanout'), 'Arn'] },
          { 'Fn::GetAtt': [queueLogicalId(herald, 'fanout-dlq'), 'Arn'] },
          { 'Fn::GetAtt': [queueLogicalId(herald, 'scheduler-dlq'), 'Arn'] },
        ],
        condition: undefined,
      },
    ]);
    const [, role] = resourcesOfType(herald.data, 'AWS::IAM::Role')[0] ?? [];
    expect(role ? prop(role, 'ManagedPolicyArns') : 'no role').toBeUndefined();
  });
});
