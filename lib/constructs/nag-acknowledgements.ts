/**
 * Acknowledging a cdk-nag (AwsSolutions) finding where the construct that causes it is made, with
 * the reason it is right as it is. cdk-nag v3 reads CDK's own `Validations.of(scope).acknowledge()`
 * and matches each finding by its exact id: `AwsSolutions-IAM5[Resource::<the resource>]` names
 * the wildcard resource as cdk-nag flattens it, so {@link acknowledgeWildcardResource} flattens it
 * the same way. test/infra/cdk-nag.test.ts fails on any finding left unacknowledged, so a drift in
 * that format shows at once.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges the finding `id` (e.g. `AwsSolutions-APIG4`) on `scope` and everything under it. */
export function acknowledgeFinding(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Acknowledges `AwsSolutions-IAM5` for the wildcard `resource` (an ARN, tokens allowed) in the
 * policies of `scope` (a role: its default policy is under it), and only for that resource.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  acknowledgeFinding(scope, `AwsSolutions-IAM5[Resource::${flattenReference(Stack.of(scope).resolve(resource))}]`, reason);
}

/** A resolved CloudFormation value as cdk-nag writes it in a finding id (`<LogicalId>`, `<Id.Attr>`, joins joined). */
function flattenReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof value === 'object' && value !== null) {
    const node = value as Readonly<Record<string, unknown>>;
    const join = node['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
      return (join[1] as unknown[]).map(flattenReference).join(join[0]);
    }
    if ('Fn::Sub' in node) return flattenReference(node['Fn::Sub']);
    const getAtt = node['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${flattenReference(getAtt[0])}.${flattenReference(getAtt[1])}>`;
    if ('Fn::ImportValue' in node) return flattenReference(node['Fn::ImportValue']);
    if ('Ref' in node) return `<${flattenReference(node.Ref)}>`;
  }
  return JSON.stringify(value);
}
