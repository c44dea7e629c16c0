/**
 * What outlives the stack: on a production stage the stateful resources are kept when they leave
 * it (but not when its first deploy rolls back), and the tables refuse deletion; on any other
 * stage everything goes with the stack, so a dev stage can be destroyed and deployed again.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { repositoryRoot } from '../../lib/constructs/herald-function.ts';
import { contextKeys, isProductionStage, readHeraldSettings } from '../../lib/stacks/herald-settings.ts';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald, testSettings } from './synth.ts';
import type { CfnResource } from './template-queries.ts';
import { prop, resourcesOf, resourcesOfType } from './template-queries.ts';

/** Every resource type of the data stack that holds state or that a pending schedule or alarm needs (the secrets: the Telegram token, the VAPID seed every push subscription is bound to). */
const statefulTypes = ['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::SNS::Topic', 'AWS::KMS::Key', 'AWS::Scheduler::ScheduleGroup', 'AWS::SecretsManager::Secret'];

function statefulResources(herald: SynthesisedHerald): Array<[string, CfnResource]> {
  return Object.entries(resourcesOf(herald.data)).filter(([, resource]) => statefulTypes.includes(resource.Type));
}

describe('a production stage', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    // Prepare: `live` is one of the test context's production stages.
    herald = synthesiseHerald({ [contextKeys.stage]: 'live' });
  });

  it('keeps every table, queue, topic, key, secret and the schedule group when they leave the stack, except after a failed first deploy', () => {
    // Act
    const stateful = statefulResources(herald);

    // Assess
    expect(new Set(stateful.map(([, r]) => r.Type))).toEqual(new Set(statefulTypes));
    for (const [id, resource] of stateful) {
      expect([resource.DeletionPolicy, resource.UpdateReplacePolicy], id).toEqual(['RetainExceptOnCreate', 'Retain']);
    }
  });

  it('turns on deletion protection on every table', () => {
    // Act
    const protectedTables = resourcesOfType(herald.data, 'AWS::DynamoDB::Table').map(([, t]) => prop(t, 'DeletionProtectionEnabled'));

    // Assess
    expect(protectedTables.length).toBeGreaterThan(0);
    expect(protectedTables.every((enabled) => enabled === true)).toBe(true);
  });

  it('protects the data stack from termination', () => {
    // Assess
    expect(herald.stacks.data.terminationProtection).toBe(true);
  });
});

describe('any other stage', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    // Prepare: the test stage is no production stage.
    herald = synthesiseHerald();
  });

  it('deletes every stateful resource with the stack, so the stage can be destroyed and deployed again', () => {
    // Act
    const stateful = statefulResources(herald);

    // Assess
    expect(new Set(stateful.map(([, r]) => r.Type))).toEqual(new Set(statefulTypes));
    for (const [id, resource] of stateful) {
      expect([resource.DeletionPolicy, resource.UpdateReplacePolicy], id).toEqual(['Delete', 'Delete']);
    }
  });

  it('leaves the tables deletable and the stacks unprotected', () => {
    // Act
    const protectedTables = resourcesOfType(herald.data, 'AWS::DynamoDB::Table').filter(([, t]) => prop(t, 'DeletionProtectionEnabled') === true);

    // Assess
    expect(protectedTables).toEqual([]);
    expect(herald.stacks.data.terminationProtection).toBe(false);
    expect(herald.stacks.service.terminationProtection).toBe(false);
  });
});

describe('which stages are production', () => {
  it('comes from context, and cdk.json names prod alone', () => {
    // Prepare
    const cdkJson = JSON.parse(readFileSync(path.join(repositoryRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

    // Act
    const shipped = readHeraldSettings(new App({ context: cdkJson.context }));
    const prod = readHeraldSettings(new App({ context: { ...cdkJson.context, [contextKeys.stage]: 'prod' } }));

    // Assess
    expect(shipped.operations.productionStages).toEqual(['prod']);
    expect(isProductionStage(shipped)).toBe(false);
    expect(isProductionStage(prod)).toBe(true);
  });

  it('is no stage of the test context but the ones it lists', () => {
    // Assess
    expect(isProductionStage(testSettings)).toBe(false);
    expect(isProductionStage({ ...testSettings, stage: 'live' })).toBe(true);
  });
});
