/**
 * Small readers over synthesised CloudFormation: follow references (Ref, Fn::GetAtt, the
 * service stack's Fn::GetStackOutput into the data stack) and collect IAM statements per role.
 */
import type { Template } from 'aws-cdk-lib/assertions';

/** One resource of a template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** One IAM policy statement, with Action and Resource always as arrays. */
export interface Statement {
  readonly effect: string;
  readonly actions: readonly string[];
  readonly resources: readonly unknown[];
  readonly condition?: unknown;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): readonly unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Every resource of the template, by logical id. */
export function resourcesOf(template: Template): Readonly<Record<string, CfnResource>> {
  const json: unknown = template.toJSON();
  if (!isRecord(json) || !isRecord(json.Resources)) throw new Error('Template has no Resources');
  return json.Resources as Readonly<Record<string, CfnResource>>;
}

/** The template's Outputs, by name. */
export function outputsOf(template: Template): Readonly<Record<string, { readonly Value: unknown }>> {
  const json: unknown = template.toJSON();
  if (!isRecord(json) || !isRecord(json.Outputs)) return {};
  return json.Outputs as Readonly<Record<string, { readonly Value: unknown }>>;
}

/** The resources of one type, as `[logicalId, resource]` pairs. */
export function resourcesOfType(template: Template, type: string): Array<[string, CfnResource]> {
  return Object.entries(resourcesOf(template)).filter(([, resource]) => resource.Type === type);
}

/** A property of a resource, typed `unknown` until the test narrows it. */
export function prop(resource: CfnResource, name: string): unknown {
  return resource.Properties?.[name];
}

/** The logical id of the Lambda function with that physical name; throws when absent. */
export function functionLogicalId(template: Template, functionName: string): string {
  const found = resourcesOfType(template, 'AWS::Lambda::Function').find(
    ([, fn]) => prop(fn, 'FunctionName') === functionName,
  );
  if (!found) throw new Error(`No function named ${functionName}`);
  return found[0];
}

/** The physical name of the function a Lambda logical id stands for. */
export function functionNameOf(template: Template, logicalId: string): string {
  const fn = resourcesOf(template)[logicalId];
  const name = fn ? prop(fn, 'FunctionName') : undefined;
  if (typeof name !== 'string') throw new Error(`${logicalId} is not a named Lambda function`);
  return name;
}

/** The environment variables of a function. */
export function environmentOf(template: Template, functionName: string): Readonly<Record<string, unknown>> {
  const fn = resourcesOf(template)[functionLogicalId(template, functionName)];
  const environment = fn ? prop(fn, 'Environment') : undefined;
  if (!isRecord(environment) || !isRecord(environment.Variables)) return {};
  return environment.Variables;
}

/** Every logical id a value points at through `Ref` or `Fn::GetAtt`, however deeply nested. */
export function referencedLogicalIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedLogicalIds);
  if (!isRecord(value)) return [];
  const ref = value.Ref;
  if (typeof ref === 'string' && !ref.startsWith('AWS::')) return [ref];
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return [getAtt[0]];
  return Object.values(value).flatMap(referencedLogicalIds);
}

/** Replaces the service stack's `Fn::GetStackOutput` imports by the data stack's output values. */
export function resolveImports(value: unknown, producer: Template): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveImports(item, producer));
  if (!isRecord(value)) return value;
  const imported = value['Fn::GetStackOutput'];
  if (isRecord(imported) && typeof imported.OutputName === 'string') {
    const output = outputsOf(producer)[imported.OutputName];
    if (!output) throw new Error(`Data stack has no output ${imported.OutputName}`);
    return output.Value;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveImports(v, producer)]));
}

/** The logical id of the role a function runs as. */
export function roleOfFunction(template: Template, functionName: string): string {
  const fn = resourcesOf(template)[functionLogicalId(template, functionName)];
  const [role] = referencedLogicalIds(fn ? prop(fn, 'Role') : undefined);
  if (!role) throw new Error(`${functionName} has no role`);
  return role;
}

function toStatement(raw: unknown): Statement {
  if (!isRecord(raw)) throw new Error('Malformed policy statement');
  return {
    effect: String(raw.Effect),
    actions: asArray(raw.Action).map(String),
    resources: asArray(raw.Resource),
    condition: raw.Condition,
  };
}

function statementsOfDocument(document: unknown): Statement[] {
  return isRecord(document) ? asArray(document.Statement).map(toStatement) : [];
}

/** Every statement a role is granted: its inline policies and every AWS::IAM::Policy attached to it. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const role = resourcesOf(template)[roleLogicalId];
  if (!role) throw new Error(`No role ${roleLogicalId}`);
  const inline = asArray(prop(role, 'Policies')).flatMap((policy) =>
    isRecord(policy) ? statementsOfDocument(policy.PolicyDocument) : [],
  );
  const attached = resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, policy]) => referencedLogicalIds(prop(policy, 'Roles')).includes(roleLogicalId))
    .flatMap(([, policy]) => statementsOfDocument(prop(policy, 'PolicyDocument')));
  return [...inline, ...attached];
}

/** Every statement the role of a function is granted. */
export function statementsOfFunction(template: Template, functionName: string): Statement[] {
  return statementsOfRole(template, roleOfFunction(template, functionName));
}

/** The actions of the statements, de-duplicated and sorted. */
export function actionsOf(statements: readonly Statement[]): string[] {
  return [...new Set(statements.flatMap((s) => s.actions))].sort();
}

/** The statements that allow `action` (exactly, or through a `service:*` wildcard). */
export function statementsAllowing(statements: readonly Statement[], action: string): Statement[] {
  const service = action.split(':')[0];
  return statements.filter(
    (s) => s.effect === 'Allow' && s.actions.some((a) => a === action || a === `${service}:*` || a === '*'),
  );
}
