/**
 * The broadcast part of the stacks: what the fan-out and broadcast delivery may touch, how the API
 * schedules one broadcast (and nothing per recipient), and the stateful resources they rely on.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { BROADCAST_DUE_INDEX_SHARDS, BROADCAST_RECIPIENT_SHARDS, functions, queueByName } from '../../lib/app-description.ts';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald, testSettings } from './synth.ts';
import {
  actionsOf,
  environmentOf,
  functionLogicalId,
  prop,
  resolveImports,
  resourcesOfType,
  statementsAllowing,
  statementsOfFunction,
} from './template-queries.ts';

const physical = (name: string): string => `herald-${testSettings.stage}-${name}`;

function queueArn(herald: SynthesisedHerald, name: string): unknown {
  const found = resourcesOfType(herald.data, 'AWS::SQS::Queue').find(([, q]) => prop(q, 'QueueName') === physical(name));
  if (!found) throw new Error(`No queue ${name}`);
  return { 'Fn::GetAtt': [found[0], 'Arn'] };
}

function resourcesAllowing(herald: SynthesisedHerald, fn: string, action: string): unknown[] {
  return statementsAllowing(statementsOfFunction(herald.service, physical(fn)), action)
    .flatMap((s) => s.resources)
    .map((r) => resolveImports(r, herald.data));
}

describe('broadcasts in the stacks', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it('keeps recipient rows with an index by broadcast, status and shard, expiring by TTL', () => {
    herald.data.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: physical('broadcast-recipients'),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'recipientId', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byStatus' })],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(BROADCAST_RECIPIENT_SHARDS).toBeGreaterThan(1);
  });

  it('indexes the scheduled broadcasts by due time for the stuck-retry sweep: sharded, sparse, holding what the sweep reads', () => {
    herald.data.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: physical('broadcasts'),
      GlobalSecondaryIndexes: Match.arrayWith([
        {
          IndexName: 'due',
          KeySchema: [
            { AttributeName: 'dueShard', KeyType: 'HASH' },
            { AttributeName: 'dueAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['tenantId', 'id', 'status'] },
        },
      ]),
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'dueShard', AttributeType: 'S' },
        { AttributeName: 'dueAt', AttributeType: 'S' },
      ]),
    });
    expect(BROADCAST_DUE_INDEX_SHARDS).toBeGreaterThan(1);
  });

  it('gives the fan-out and broadcast delivery queues their dead-letter queues', () => {
    for (const [queue, dlq] of [
      ['fanout', 'fanout-dlq'],
      ['broadcast-delivery', 'broadcast-delivery-dlq'],
    ] as const) {
      herald.data.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: physical(queue),
        RedrivePolicy: { deadLetterTargetArn: queueArn(herald, dlq), maxReceiveCount: queueByName(queue).deadLetter?.maxReceiveCount },
      });
    }
  });

  it('lets the api create broadcast schedules that target the fan-out queue, and send a due one straight there', () => {
    const env = environmentOf(herald.service, physical('api'));
    expect(resolveImports(env[queueByName('fanout').arnEnvVar], herald.data)).toEqual(queueArn(herald, 'fanout'));
    expect(resolveImports(env[queueByName('fanout-dlq').arnEnvVar], herald.data)).toEqual(queueArn(herald, 'fanout-dlq'));
    expect(resourcesAllowing(herald, 'api', 'sqs:SendMessage')).toContainEqual(queueArn(herald, 'fanout'));
    expect(actionsOf(statementsOfFunction(herald.service, physical('api')))).toContain('scheduler:CreateSchedule');
  });

  it('never lets the api send to the fan-out dead-letter queue: it only names it in schedules', () => {
    expect(resourcesAllowing(herald, 'api', 'sqs:SendMessage')).not.toContainEqual(queueArn(herald, 'fanout-dlq'));
  });

  it('lets the fan-out consume its queue, re-enqueue itself, feed the broadcast delivery queue and (for recurring occurrences) the delivery queue, and nothing else', () => {
    const sendsTo = resourcesAllowing(herald, 'fanout', 'sqs:SendMessage');
    expect(sendsTo).toHaveLength(3);
    expect(sendsTo).toEqual(expect.arrayContaining([queueArn(herald, 'fanout'), queueArn(herald, 'broadcast-delivery'), queueArn(herald, 'delivery')]));
    expect(resourcesAllowing(herald, 'fanout', 'sqs:ChangeMessageVisibility')).toEqual([queueArn(herald, 'fanout')]);
    const actions = actionsOf(statementsOfFunction(herald.service, physical('fanout')));
    expect(actions.filter((a) => a.startsWith('ses:') || a.startsWith('scheduler:') || a === 'execute-api:ManageConnections')).toEqual([]);
  });

  it('maps each broadcast queue to its consumer with partial batch failures', () => {
    for (const [fn, queue] of [
      ['fanout', 'fanout'],
      ['broadcast-deliver', 'broadcast-delivery'],
    ] as const) {
      const ref = { Ref: functionLogicalId(herald.service, physical(fn)) };
      const mapping = resourcesOfType(herald.service, 'AWS::Lambda::EventSourceMapping').find(
        ([, m]) => JSON.stringify(prop(m, 'FunctionName')) === JSON.stringify(ref),
      );
      expect(mapping, fn).toBeDefined();
      const [, m] = mapping ?? ['', { Type: 'missing' }];
      expect(resolveImports(prop(m, 'EventSourceArn'), herald.data)).toEqual(queueArn(herald, queue));
      expect(prop(m, 'FunctionResponseTypes')).toEqual(['ReportBatchItemFailures']);
    }
  });

  it('lets the broadcast delivery email and post to sockets, but never schedule or feed the fan-out', () => {
    const actions = actionsOf(statementsOfFunction(herald.service, physical('broadcast-deliver')));
    expect(actions).toContain('ses:SendEmail');
    expect(actions).toContain('execute-api:ManageConnections');
    expect(actions.filter((a) => a.startsWith('scheduler:') || a === 'iam:PassRole')).toEqual([]);
    expect(resourcesAllowing(herald, 'broadcast-deliver', 'sqs:SendMessage')).toEqual([]);
  });

  it('describes consumers whose queues hide a message at least six times their timeout', () => {
    for (const fn of functions.filter((f) => f.name === 'fanout' || f.name === 'broadcast-deliver')) {
      for (const trigger of fn.triggers) {
        if (trigger.kind !== 'queue') continue;
        expect(queueByName(trigger.queue).visibilityTimeoutSeconds).toBeGreaterThanOrEqual(fn.timeoutSeconds * 6);
      }
    }
  });
});
