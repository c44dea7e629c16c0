/**
 * cdk-nag's AwsSolutions rules against both stacks, as `cdk deploy` would deploy them: no finding
 * may be left unacknowledged, and each acknowledgement (lib/constructs/nag-acknowledgements.ts, at
 * the construct that causes it) says why the resource is right as it is.
 */
import { Validations } from 'aws-cdk-lib';
import type { PolicyValidationPluginReport, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { contextKeys } from '../../lib/stacks/herald-settings.ts';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald } from './synth.ts';
import { prop, resourcesOfType } from './template-queries.ts';

/** The unacknowledged findings of a report, one line each: rule, construct. */
function findingsOf(report: PolicyValidationPluginReport): string[] {
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath ?? resource.resourceLogicalId}`),
  );
}

/** Every acknowledgement made in the construct tree under `scope`: id, reason and where. */
function acknowledgementsUnder(scope: IConstruct): Array<{ id: string; reason: string; path: string }> {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        // CDK records them as `Annotation::<id>`; cdk-nag matches the id after that prefix.
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ id: id.replace(/^annotation::/i, ''), reason, path: construct.node.path })),
      ),
  );
}

describe.each([
  ['a dev stage', {}],
  ['a production stage', { [contextKeys.stage]: 'live' }],
])('cdk-nag AwsSolutions on %s', (_stage, context) => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald(context);
  });

  const stacks = (): Array<[string, Stack]> => [
    ['data', herald.stacks.data],
    ['service', herald.stacks.service],
    ['console', herald.stacks.console],
  ];

  it.each(['data', 'service', 'console'])('leaves no finding unacknowledged in the %s stack', (name) => {
    // Prepare
    const stack = stacks().find(([n]) => n === name)?.[1];
    if (!stack) throw new Error(`No ${name} stack`);

    // Act
    const report = new AwsSolutionsChecks().validateScope(stack);

    // Assess
    expect(findingsOf(report)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('gives a reason with every acknowledgement, and acknowledges AwsSolutions rules only', () => {
    // Act
    const acknowledged = stacks().flatMap(([, stack]) => acknowledgementsUnder(stack));

    // Assess
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { id, reason, path } of acknowledged) {
      expect(id, path).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(reason.length, `${id} at ${path}`).toBeGreaterThan(40);
    }
  });

  it('grants on every resource (*) only the actions that take no resource, which is all its Resource::* acknowledgement covers', () => {
    // Act
    const onEverything = resourcesOfType(herald.service, 'AWS::IAM::Policy').flatMap(([, policy]) =>
      ((prop(policy, 'PolicyDocument') as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }).Statement ?? [])
        .filter((statement) => ([] as unknown[]).concat(statement.Resource).includes('*'))
        .flatMap((statement) => ([] as string[]).concat(statement.Action)),
    );

    // Assess
    expect([...new Set(onEverything)].sort()).toEqual(['dynamodb:ListStreams', 'ses:GetAccount', 'ses:GetSendQuota', 'sns:CheckIfPhoneNumberIsOptedOut', 'sns:Publish', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  it('never acknowledges a whole rule where a finding can be named: wildcard and managed-policy findings name their resource or policy', () => {
    // Act
    const blanket = stacks()
      .flatMap(([, stack]) => acknowledgementsUnder(stack))
      .filter(({ id }) => /^AwsSolutions-IAM[45]$/.test(id));

    // Assess
    expect(blanket).toEqual([]);
  });
});
