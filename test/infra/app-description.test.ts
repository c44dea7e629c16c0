/**
 * THE agreement test: the synthesised templates hold exactly what lib/app-description.ts
 * describes (every table, queue, function, route, queue mapping and rule) and nothing more.
 * The local stack reads the same description, so this is what keeps AWS and `npm start` alike.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { functions, queues, redriveQueueNames, tables } from '../../lib/app-description.ts';
import type { FunctionDescription, Trigger } from '../../lib/app-description.ts';
import { functionEnvironment } from '../../lib/function-environment.ts';
import { gatewayRoutes } from '../../lib/http-gateway-routes.ts';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald, testSettings } from './synth.ts';
import type { CfnResource } from './template-queries.ts';
import {
  environmentOf,
  functionNameOf,
  prop,
  referencedLogicalIds,
  resolveImports,
  resourcesOf,
  resourcesOfType,
} from './template-queries.ts';

const physical = (name: string): string => `herald-${testSettings.stage}-${name}`;

type TriggerOf<K extends Trigger['kind']> = Extract<Trigger, { kind: K }>;

/** Every trigger of one kind in the description, with the function that owns it. */
function described<K extends Trigger['kind']>(kind: K): Array<{ fn: FunctionDescription; trigger: TriggerOf<K> }> {
  return functions.flatMap((fn) =>
    fn.triggers.filter((t): t is TriggerOf<K> => t.kind === kind).map((trigger) => ({ fn, trigger })),
  );
}

/** Physical names of the Lambda functions a value references. */
function functionsReferencedBy(herald: SynthesisedHerald, value: unknown): string[] {
  const all = resourcesOf(herald.service);
  return referencedLogicalIds(value)
    .filter((id) => all[id]?.Type === 'AWS::Lambda::Function')
    .map((id) => functionNameOf(herald.service, id));
}

/** The routes of the API with that protocol, as route key → name of the function it invokes. */
function routesOf(herald: SynthesisedHerald, protocol: 'HTTP' | 'WEBSOCKET'): Map<string, string[]> {
  const all = resourcesOf(herald.service);
  const apiIds = resourcesOfType(herald.service, 'AWS::ApiGatewayV2::Api')
    .filter(([, api]) => prop(api, 'ProtocolType') === protocol)
    .map(([id]) => id);
  const routes = new Map<string, string[]>();
  for (const [, route] of resourcesOfType(herald.service, 'AWS::ApiGatewayV2::Route')) {
    const [apiId] = referencedLogicalIds(prop(route, 'ApiId'));
    if (!apiId || !apiIds.includes(apiId)) continue;
    const integrations = referencedLogicalIds(prop(route, 'Target'))
      .map((id): CfnResource | undefined => all[id])
      .filter((r): r is CfnResource => r?.Type === 'AWS::ApiGatewayV2::Integration');
    const key = String(prop(route, 'RouteKey'));
    if (routes.has(key)) throw new Error(`Route ${key} is defined twice on the ${protocol} API`);
    routes.set(key, integrations.flatMap((i) => functionsReferencedBy(herald, prop(i, 'IntegrationUri'))));
  }
  return routes;
}

/** The logical id of the data-stack resource of `type` whose `nameProperty` is `name`. */
function dataLogicalId(herald: SynthesisedHerald, type: string, nameProperty: string, name: string): string | undefined {
  return resourcesOfType(herald.data, type).find(([, r]) => prop(r, nameProperty) === name)?.[0];
}

function dataResourceNamed(herald: SynthesisedHerald, type: string, nameProperty: string, value: unknown): string | undefined {
  const [logicalId] = referencedLogicalIds(resolveImports(value, herald.data));
  const resource = logicalId ? resourcesOf(herald.data)[logicalId] : undefined;
  return resource?.Type === type ? String(prop(resource, nameProperty)) : undefined;
}

describe('the templates agree with the app description', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it('holds every described table and no other', () => {
    const built = resourcesOfType(herald.data, 'AWS::DynamoDB::Table').map(([, t]) => prop(t, 'TableName'));
    expect(built.sort()).toEqual(tables.map((t) => physical(t.name)).sort());
    expect(resourcesOfType(herald.service, 'AWS::DynamoDB::Table')).toHaveLength(0);
  });

  it('holds every described queue and no other', () => {
    const built = resourcesOfType(herald.data, 'AWS::SQS::Queue').map(([, q]) => prop(q, 'QueueName'));
    expect(built.sort()).toEqual(queues.map((q) => physical(q.name)).sort());
    expect(resourcesOfType(herald.service, 'AWS::SQS::Queue')).toHaveLength(0);
  });

  it('holds every described function and no other', () => {
    const built = resourcesOfType(herald.service, 'AWS::Lambda::Function').map(([, f]) => prop(f, 'FunctionName'));
    expect(built.sort()).toEqual(functions.map((f) => physical(f.name)).sort());
    expect(resourcesOfType(herald.data, 'AWS::Lambda::Function')).toHaveLength(0);
  });

  it('routes every described HTTP route to its function, and no other route', () => {
    // As deployed: a path ending in `/` on its greedy route (lib/http-gateway-routes.ts).
    const expected = new Map(
      described('http').flatMap(({ fn, trigger }) =>
        gatewayRoutes(trigger.routes).map((r) => [`${r.method} ${r.path}`, [physical(fn.name)]] as const),
      ),
    );
    expect(routesOf(herald, 'HTTP')).toEqual(expected);
  });

  it('routes every described WebSocket route to its function, and no other route', () => {
    const expected = new Map(described('websocket').map(({ fn, trigger }) => [trigger.route, [physical(fn.name)]] as const));
    expect(routesOf(herald, 'WEBSOCKET')).toEqual(expected);
  });

  it('builds one WebSocket authorizer per described authorizer function, and no other', () => {
    const built = resourcesOfType(herald.service, 'AWS::ApiGatewayV2::Authorizer')
      .filter(([, a]) => prop(a, 'AuthorizerType') === 'REQUEST')
      .map(([, a]) => ({ fns: functionsReferencedBy(herald, prop(a, 'AuthorizerUri')), identity: prop(a, 'IdentitySource') }));
    expect(built).toEqual(
      described('websocket-authorizer').map(({ fn, trigger }) => ({ fns: [physical(fn.name)], identity: [trigger.identitySource] })),
    );
  });

  it('maps every described queue and stream trigger to its function, and no other mapping', () => {
    const built = resourcesOfType(herald.service, 'AWS::Lambda::EventSourceMapping').map(([, m]) => {
      const queue = dataResourceNamed(herald, 'AWS::SQS::Queue', 'QueueName', prop(m, 'EventSourceArn'));
      return queue ? `queue ${queue}` : `stream of ${dataResourceNamed(herald, 'AWS::DynamoDB::Table', 'TableName', prop(m, 'EventSourceArn'))}`;
    });
    expect(built.sort()).toEqual(
      [...described('queue').map(({ trigger }) => `queue ${physical(trigger.queue)}`), ...described('stream').map(({ trigger }) => `stream of ${physical(trigger.table)}`)].sort(),
    );
  });

  it('reads every described queue trigger in its batches, reporting partial failures', () => {
    const built = resourcesOfType(herald.service, 'AWS::Lambda::EventSourceMapping')
      .filter(([, m]) => dataResourceNamed(herald, 'AWS::SQS::Queue', 'QueueName', prop(m, 'EventSourceArn')) !== undefined)
      .map(([, m]) => ({
        queue: dataResourceNamed(herald, 'AWS::SQS::Queue', 'QueueName', prop(m, 'EventSourceArn')),
        fns: functionsReferencedBy(herald, prop(m, 'FunctionName')),
        batchSize: prop(m, 'BatchSize'),
        window: prop(m, 'MaximumBatchingWindowInSeconds'),
        reportsFailures: prop(m, 'FunctionResponseTypes'),
      }));
    expect(built).toEqual(
      described('queue').map(({ fn, trigger }) => ({
        queue: physical(trigger.queue),
        fns: [physical(fn.name)],
        batchSize: trigger.batchSize,
        window: trigger.maxBatchingWindowSeconds,
        reportsFailures: trigger.reportBatchItemFailures ? ['ReportBatchItemFailures'] : undefined,
      })),
    );
  });

  it('reads every described stream trigger as described, giving up on a batch to its on-failure queue', () => {
    const built = resourcesOfType(herald.service, 'AWS::Lambda::EventSourceMapping')
      .filter(([, m]) => dataResourceNamed(herald, 'AWS::DynamoDB::Table', 'TableName', prop(m, 'EventSourceArn')) !== undefined)
      .map(([, m]) => ({
        stream: resolveImports(prop(m, 'EventSourceArn'), herald.data),
        fns: functionsReferencedBy(herald, prop(m, 'FunctionName')),
        batchSize: prop(m, 'BatchSize'),
        window: prop(m, 'MaximumBatchingWindowInSeconds'),
        startingPosition: prop(m, 'StartingPosition'),
        reportsFailures: prop(m, 'FunctionResponseTypes'),
        bisect: prop(m, 'BisectBatchOnFunctionError'),
        retries: prop(m, 'MaximumRetryAttempts'),
        onFailure: dataResourceNamed(herald, 'AWS::SQS::Queue', 'QueueName', (prop(m, 'DestinationConfig') as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination),
      }));
    expect(described('stream').length).toBeGreaterThan(0);
    expect(built).toEqual(
      described('stream').map(({ fn, trigger }) => ({
        stream: { 'Fn::GetAtt': [dataLogicalId(herald, 'AWS::DynamoDB::Table', 'TableName', physical(trigger.table)), 'StreamArn'] },
        fns: [physical(fn.name)],
        batchSize: trigger.batchSize,
        window: trigger.maxBatchingWindowSeconds,
        startingPosition: trigger.startingPosition,
        reportsFailures: trigger.reportBatchItemFailures ? ['ReportBatchItemFailures'] : undefined,
        bisect: trigger.bisectBatchOnFunctionError,
        retries: trigger.maximumRetryAttempts,
        onFailure: physical(trigger.onFailure),
      })),
    );
  });

  it('gives a stream, of the described view, to exactly the tables that declare one', () => {
    const built = Object.fromEntries(
      resourcesOfType(herald.data, 'AWS::DynamoDB::Table').map(([, t]) => [prop(t, 'TableName'), (prop(t, 'StreamSpecification') as { StreamViewType?: string } | undefined)?.StreamViewType]),
    );
    expect(built).toEqual(Object.fromEntries(tables.map((t) => [physical(t.name), t.stream])));
    expect(tables.some((t) => t.stream)).toBe(true);
  });

  it('runs every described rule on its schedule, and no other rule', () => {
    const built = resourcesOfType(herald.service, 'AWS::Events::Rule').map(([, r]) => ({
      name: prop(r, 'Name'),
      schedule: prop(r, 'ScheduleExpression'),
      fns: functionsReferencedBy(herald, prop(r, 'Targets')),
    }));
    expect(built).toEqual(
      described('rule').map(({ fn, trigger }) => ({
        name: physical(trigger.ruleName),
        schedule: trigger.schedule,
        fns: [physical(fn.name)],
      })),
    );
  });

  it('tells each function the names of exactly the tables it may touch', () => {
    for (const fn of functions) {
      const env = environmentOf(herald.service, physical(fn.name));
      const granted = Object.keys(fn.access.tables ?? {});
      for (const table of tables) {
        const value = env[table.envVar];
        if (granted.includes(table.name)) {
          expect(dataResourceNamed(herald, 'AWS::DynamoDB::Table', 'TableName', value), `${fn.name} ${table.name}`).toBe(physical(table.name));
        } else {
          expect(value, `${fn.name} must not know ${table.name}`).toBeUndefined();
        }
      }
    }
  });

  it('sets on each function exactly the variables lib/function-environment.ts derives from its description, and NODE_OPTIONS', () => {
    // Only the names count here: the values are CDK tokens on one side and placeholders on the other.
    const placeholders = {
      settings: testSettings,
      tableName: () => 'table',
      queue: () => ({ url: 'url', arn: 'arn' }),
      scheduler: { groupName: 'group', roleArn: 'role' },
      websocketCallbackUrl: 'callback',
      emailConfigurationSet: 'configuration-set',
      vapidSecretArn: 'secret',
      telegram: { tokenSecret: 'secret', apiUrl: 'https://telegram' },
      webhookTargets: 'public-https' as const,
    };
    for (const fn of functions) {
      const built = Object.keys(environmentOf(herald.service, physical(fn.name))).sort();
      const derived = [...Object.keys(functionEnvironment(fn, placeholders)), 'NODE_OPTIONS'].sort();
      expect(built, fn.name).toEqual(derived);
    }
  });

  it('tells both doors (the HTTP API function, the WebSocket authorizer) the claim names from context, and no other function', () => {
    const readers = functions.filter((fn) => fn.access.settings?.includes('claims')).map((fn) => fn.name).sort();
    expect(readers).toEqual(['api', 'ws-authorizer']);
    for (const fn of functions) {
      const env = environmentOf(herald.service, physical(fn.name));
      const expected = readers.includes(fn.name) ? [testSettings.claims.tenantClaim, testSettings.claims.roleClaim, 'false'] : [undefined, undefined, undefined];
      expect([env.HERALD_TENANT_CLAIM, env.HERALD_ROLE_CLAIM, env.HERALD_SINGLE_TENANT], fn.name).toEqual(expected);
    }
  });

  it('tells each function the URL and ARN of exactly the queues it sends to or consumes', () => {
    for (const fn of functions) {
      const env = environmentOf(herald.service, physical(fn.name));
      const used = new Set([
        ...(fn.access.sendsTo ?? []),
        ...fn.triggers.flatMap((t) => (t.kind === 'queue' ? [t.queue] : [])),
        // Scheduling functions name the schedule target queue and dead-letter queue (config.ts).
        ...(fn.access.schedules ? (['delivery', 'scheduler-dlq'] as const) : []),
        // Broadcast schedulers name the fan-out queue and its dead-letter queue (broadcastSchedulerConfig).
        ...(fn.access.schedulesBroadcasts ? (['fanout', 'fanout-dlq'] as const) : []),
        // Operators' routes name every dead-letter queue and where each redrives to.
        ...(fn.access.redrivesDeadLetters ? redriveQueueNames() : []),
      ]);
      for (const queue of queues) {
        const url = env[queue.urlEnvVar];
        const arn = env[queue.arnEnvVar];
        if (!used.has(queue.name)) {
          expect([url, arn], `${fn.name} must not know ${queue.name}`).toEqual([undefined, undefined]);
          continue;
        }
        expect(dataResourceNamed(herald, 'AWS::SQS::Queue', 'QueueName', arn), `${fn.name} ${queue.name}`).toBe(physical(queue.name));
      }
    }
  });
});
