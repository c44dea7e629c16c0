/**
 * Every alarm has an action: the data stack's encrypted SNS topic hears each alarm of both stacks,
 * in alarm and back to OK, and mails the address from context when there is one.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { contextKeys } from '../../lib/stacks/herald-settings.ts';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald, testSettings } from './synth.ts';
import { prop, resolveImports, resourcesOfType } from './template-queries.ts';

function topicLogicalId(herald: SynthesisedHerald): string {
  const topics = resourcesOfType(herald.data, 'AWS::SNS::Topic');
  const [only] = topics;
  if (!only || topics.length !== 1) throw new Error('The data stack should hold exactly one topic, the alarm topic');
  return only[0];
}

describe('the alarm topic', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it('is notified by every alarm of both stacks, when it fires and when it recovers', () => {
    // Prepare
    const topic = { Ref: topicLogicalId(herald) };

    // Act
    const alarms = [...resourcesOfType(herald.data, 'AWS::CloudWatch::Alarm'), ...resourcesOfType(herald.service, 'AWS::CloudWatch::Alarm')];

    // Assess
    expect(alarms.length).toBeGreaterThan(0);
    for (const [id, alarm] of alarms) {
      expect(resolveImports(prop(alarm, 'AlarmActions'), herald.data), id).toEqual([topic]);
      expect(resolveImports(prop(alarm, 'OKActions'), herald.data), id).toEqual([topic]);
    }
  });

  it('is encrypted with a rotated customer managed key that CloudWatch may use to publish', () => {
    // Prepare
    const [keyId] = resourcesOfType(herald.data, 'AWS::KMS::Key').map(([id]) => id);

    // Assess
    herald.data.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: `herald-${testSettings.stage}-alarms`,
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    herald.data.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('refuses a publish that is not over TLS', () => {
    // Assess
    herald.data.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicLogicalId(herald) }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('mails the address from context', () => {
    // Assess
    herald.data.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: testSettings.operations.alarmEmail,
      TopicArn: { Ref: topicLogicalId(herald) },
    });
  });

  it('has no subscription when the context names no address', () => {
    // Act
    const silent = synthesiseHerald({ [contextKeys.alarmEmail]: undefined });

    // Assess
    expect(resourcesOfType(silent.data, 'AWS::SNS::Subscription')).toEqual([]);
    expect(resourcesOfType(silent.data, 'AWS::SNS::Topic')).toHaveLength(1);
  });
});
