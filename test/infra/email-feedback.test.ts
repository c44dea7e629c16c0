/**
 * Bounces and complaints come back: the data stack's SES configuration set publishes them to the
 * default EventBridge bus, a rule puts this set's on the `ses-feedback` queue, the `ses-feedback`
 * function consumes it, and every function that sends e-mail names the set.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { functions } from '../../lib/app-description.ts';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald, testSettings } from './synth.ts';
import { environmentOf, prop, referencedLogicalIds, resolveImports, resourcesOfType } from './template-queries.ts';

const physical = (name: string): string => `herald-${testSettings.stage}-${name}`;

describe('the way back of bounces and complaints', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it('publishes the configuration set’s bounces and complaints to the default event bus', () => {
    herald.data.resourceCountIs('AWS::SES::ConfigurationSet', 1);
    herald.data.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: Match.objectLike({
        Enabled: true,
        MatchingEventTypes: Match.arrayEquals(['bounce', 'complaint']),
        EventBridgeDestination: { EventBusArn: Match.anyValue() },
      }),
    });
  });

  it('puts only this configuration set’s bounces and complaints on the ses-feedback queue', () => {
    // Act
    const rules = resourcesOfType(herald.data, 'AWS::Events::Rule');
    const [setId] = resourcesOfType(herald.data, 'AWS::SES::ConfigurationSet').map(([id]) => id);

    // Assess
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0] ?? [];
    expect(prop(rule as never, 'EventPattern')).toEqual({
      source: ['aws.ses'],
      'detail-type': ['Email Bounced', 'Email Complaint Received'],
      detail: { mail: { tags: { 'ses:configuration-set': [{ Ref: setId }] } } },
    });
    const targets = prop(rule as never, 'Targets') as { Arn: unknown }[];
    expect(targets).toHaveLength(1);
    const queueIds = referencedLogicalIds(targets[0]?.Arn);
    const [queue] = resourcesOfType(herald.data, 'AWS::SQS::Queue').filter(([id]) => queueIds.includes(id));
    expect(prop(queue?.[1] as never, 'QueueName')).toBe(physical('ses-feedback'));
  });

  it('tells every function that sends e-mail the configuration set to name, and no other', () => {
    const [setId] = resourcesOfType(herald.data, 'AWS::SES::ConfigurationSet').map(([id]) => id);
    for (const fn of functions) {
      const variable = environmentOf(herald.service, physical(fn.name)).HERALD_SES_CONFIGURATION_SET;
      if (fn.access.sendsEmail) expect(resolveImports(variable, herald.data), fn.name).toEqual({ Ref: setId });
      else expect(variable, fn.name).toBeUndefined();
    }
  });
});
