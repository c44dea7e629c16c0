/**
 * What stands between a flood (or a foreign web page) and Herald: stage-level throttling from
 * context on both APIs, reserved concurrency from the description, CORS for the configured origins
 * only, and an access log line for every request.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { functions, httpRoutes } from '../../lib/app-description.ts';
import type { FunctionDescription } from '../../lib/app-description.ts';
import { repositoryRoot } from '../../lib/constructs/herald-function.ts';
import { corsAllowedHeaders } from '../../lib/constructs/herald-http-api.ts';
import { gatewayRoutes } from '../../lib/http-gateway-routes.ts';
import { HeraldDataStack } from '../../lib/stacks/herald-data-stack.ts';
import { contextKeys, readHeraldSettings, SettingsError } from '../../lib/stacks/herald-settings.ts';
import { HeraldServiceStack } from '../../lib/stacks/herald-service-stack.ts';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald, testContext, testSettings } from './synth.ts';
import { environmentOf, functionLogicalId, prop, referencedLogicalIds, resourcesOf, resourcesOfType } from './template-queries.ts';

const physical = (name: string): string => `herald-${testSettings.stage}-${name}`;

function apiLogicalId(herald: SynthesisedHerald, protocol: 'HTTP' | 'WEBSOCKET'): string {
  const found = resourcesOfType(herald.service, 'AWS::ApiGatewayV2::Api').find(([, api]) => prop(api, 'ProtocolType') === protocol);
  if (!found) throw new Error(`No ${protocol} API`);
  return found[0];
}

function stageOf(herald: SynthesisedHerald, protocol: 'HTTP' | 'WEBSOCKET'): [string, NonNullable<ReturnType<typeof resourcesOf>[string]>] {
  const apiId = apiLogicalId(herald, protocol);
  const found = resourcesOfType(herald.service, 'AWS::ApiGatewayV2::Stage').find(([, stage]) => referencedLogicalIds(prop(stage, 'ApiId')).includes(apiId));
  if (!found) throw new Error(`No stage on the ${protocol} API`);
  return found;
}

describe('stage-level throttling', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it.each(['HTTP', 'WEBSOCKET'] as const)('limits the %s API stage to the rate and burst from context', (protocol) => {
    // Act
    const [, stage] = stageOf(herald, protocol);

    // Assess
    expect(prop(stage, 'DefaultRouteSettings')).toMatchObject({
      ThrottlingRateLimit: testSettings.api.rateLimitPerSecond,
      ThrottlingBurstLimit: testSettings.api.burstLimit,
    });
  });

  it('keeps the HTTP API on its auto-deployed $default stage', () => {
    // Act
    const [, stage] = stageOf(herald, 'HTTP');

    // Assess
    expect([prop(stage, 'StageName'), prop(stage, 'AutoDeploy')]).toEqual(['$default', true]);
  });

  it('ships defaults in cdk.json, and accepts the strings `-c` passes', () => {
    // Prepare
    const cdkJson = JSON.parse(readFileSync(path.join(repositoryRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

    // Act
    const shipped = readHeraldSettings(new App({ context: cdkJson.context }));
    const passed = readHeraldSettings(
      new App({ context: testContext({ [contextKeys.apiRateLimit]: '50', [contextKeys.apiBurstLimit]: '75', [contextKeys.tenantRequestsPerSecond]: '10' }) }),
    );

    // Assess
    expect(shipped.api).toEqual({ rateLimitPerSecond: 200, burstLimit: 400, corsOrigins: [], tenantRequestsPerSecond: 50 });
    expect([passed.api.rateLimitPerSecond, passed.api.burstLimit, passed.api.tenantRequestsPerSecond]).toEqual([50, 75, 10]);
  });

  it.each([
    [contextKeys.tenantRequestsPerSecond, -1],
    [contextKeys.apiRateLimit, 0],
    [contextKeys.apiRateLimit, 20_000],
    [contextKeys.apiBurstLimit, 2.5],
    [contextKeys.apiBurstLimit, undefined],
  ])('refuses %s = %j, naming it', (key, value) => {
    // Act
    const reading = (): unknown => readHeraldSettings(new App({ context: testContext({ [key]: value }) }));

    // Assess
    expect(reading).toThrow(SettingsError);
    expect(reading).toThrow(key);
  });
});

describe('the per-tenant request quota', () => {
  it('is told, from context, to the HTTP API function alone', () => {
    // Prepare
    const herald = synthesiseHerald();

    // Act
    const quotas = Object.fromEntries(functions.map((fn) => [fn.name, environmentOf(herald.service, `herald-${testSettings.stage}-${fn.name}`).HERALD_TENANT_REQUESTS_PER_SECOND]));

    // Assess
    expect(Object.entries(quotas).filter(([, value]) => value !== undefined)).toEqual([['api', String(testSettings.api.tenantRequestsPerSecond)]]);
  });
});

describe('reserved concurrency', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it.each(functions.map((fn) => [fn.name, fn.reservedConcurrency] as const))('reserves for %s what the description declares (%s)', (name, reserved) => {
    // Act
    const fn = resourcesOf(herald.service)[functionLogicalId(herald.service, physical(name))];

    // Assess
    expect(fn && prop(fn, 'ReservedConcurrentExecutions')).toBe(reserved);
  });

  it('caps the api function, so that a flood of requests cannot take the concurrency delivery needs', () => {
    // Act
    const api = functions.find((fn) => fn.name === 'api');

    // Assess
    expect(api?.reservedConcurrency).toBeGreaterThan(0);
    const reservedTotal = functions.reduce((sum, fn) => sum + (fn.reservedConcurrency ?? 0), 0);
    // Lambda keeps 100 unreserved; with the default 1,000 the rest is the other functions' pool.
    expect(reservedTotal).toBeLessThanOrEqual(1_000 - 100);
  });

  it('reserves for each delivering consumer at least the batches its queue mapping runs at once', () => {
    // Act
    const delivering = functions.filter((fn) => fn.name === 'deliver' || fn.name === 'broadcast-deliver');

    // Assess
    expect(delivering).toHaveLength(2);
    for (const fn of delivering) {
      const trigger = fn.triggers.find((t) => t.kind === 'queue');
      expect(trigger?.kind === 'queue' ? trigger.maximumConcurrency : Infinity, fn.name).toBeLessThanOrEqual(fn.reservedConcurrency ?? 0);
    }
  });

  it('refuses a consumer that reserves fewer executions than its mapping runs batches', () => {
    // Prepare
    const deliver = functions.find((fn) => fn.name === 'deliver') as FunctionDescription;
    const starved: FunctionDescription = { ...deliver, reservedConcurrency: 5, access: { tables: { notifications: 'readWrite' } } };
    const app = new App({ context: testContext() });
    const data = new HeraldDataStack(app, 'Data', { stage: testSettings.stage });

    // Act
    const building = (): unknown =>
      new HeraldServiceStack(app, 'Service', { settings: testSettings, data, appDescription: { functions: [starved], websocketRouteSelectionExpression: '$request.body.action' } });

    // Assess
    expect(building).toThrow(/reserves 5 concurrent executions, fewer than the 20 batches/);
  });
});

describe('CORS', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it("answers browsers of the origins from context only, with the headers Herald's clients send", () => {
    // Assess
    herald.service.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: {
        AllowOrigins: [...testSettings.api.corsOrigins],
        AllowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        AllowMethods: Match.arrayWith(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
        AllowCredentials: Match.absent(),
      },
    });
    expect([...corsAllowedHeaders].sort()).toEqual(['authorization', 'content-type', 'idempotency-key']);
  });

  it('answers no browser of another origin when the context names none (the default)', () => {
    // Act
    const closed = synthesiseHerald({ [contextKeys.corsOrigins]: [] });

    // Assess
    closed.service.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP', CorsConfiguration: Match.absent() });
  });

  it.each([
    ['["https://app.acme.io","https://admin.acme.io"]', ['https://app.acme.io', 'https://admin.acme.io']],
    ['https://app.acme.io, https://admin.acme.io:8443', ['https://app.acme.io', 'https://admin.acme.io:8443']],
    ['', []],
  ])('reads the origins `-c` passes as %j', (passed, origins) => {
    // Act
    const settings = readHeraldSettings(new App({ context: testContext({ [contextKeys.corsOrigins]: passed }) }));

    // Assess
    expect(settings.api.corsOrigins).toEqual(origins);
  });

  it.each(['https://app.acme.io/', 'http://app.acme.io', 'https://app.acme.io/login', 'app.acme.io', '["https://a.io"'])(
    'refuses %j, which is no origin a browser sends',
    (passed) => {
      // Act
      const reading = (): unknown => readHeraldSettings(new App({ context: testContext({ [contextKeys.corsOrigins]: passed }) }));

      // Assess
      expect(reading).toThrow(contextKeys.corsOrigins);
    },
  );
});

describe('access logs', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it.each([
    ['HTTP', 'http'],
    ['WEBSOCKET', 'ws'],
  ] as const)('logs every request of the %s API, as JSON with its request id, to a log group kept a month', (protocol, suffix) => {
    // Act
    const [, stage] = stageOf(herald, protocol);
    const settings = prop(stage, 'AccessLogSettings') as { DestinationArn: unknown; Format: string };

    // Assess
    const [logGroupId] = referencedLogicalIds(settings.DestinationArn);
    const logGroup = logGroupId ? resourcesOf(herald.service)[logGroupId] : undefined;
    expect(logGroup && [prop(logGroup, 'LogGroupName'), prop(logGroup, 'RetentionInDays')]).toEqual([`/aws/apigateway/${physical(suffix)}`, 30]);
    expect(JSON.parse(settings.Format)).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status' });
  });

  it("sets the region's API Gateway logging role before the WebSocket stage, which cannot log without it", () => {
    // Prepare
    const [accountId, account] = resourcesOfType(herald.service, 'AWS::ApiGateway::Account')[0] ?? [];
    const [stageId] = stageOf(herald, 'WEBSOCKET');
    const stage = (herald.service.toJSON() as { Resources: Record<string, { DependsOn?: string[] }> }).Resources[stageId];

    // Act
    const [roleId] = referencedLogicalIds(account && prop(account, 'CloudWatchRoleArn'));

    // Assess
    expect(stage?.DependsOn).toEqual(expect.arrayContaining([accountId]));
    herald.service.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' } })] },
    });
    expect(resourcesOf(herald.service)[roleId ?? '']?.DeletionPolicy).toBe('Retain');
  });
});

describe('routes with a trailing slash', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it('serves the Celery routes, declared as their clients call them, on greedy routes behind the JWT authorizer', () => {
    // Prepare
    const declared = httpRoutes.filter((route) => route.path.endsWith('/'));

    // Act
    const deployed = gatewayRoutes(httpRoutes).filter((route) => route.serves.some((served) => declared.includes(served)));

    // Assess
    expect(declared).toHaveLength(3);
    expect(deployed.map((route) => `${route.method} ${route.path}`).sort()).toEqual([
      'DELETE /api/notifications/{proxy+}',
      'GET /api/notifications/{proxy+}',
      'POST /api/notifications/{proxy+}',
    ]);
    for (const route of deployed) {
      herald.service.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: `${route.method} ${route.path}`, AuthorizationType: 'JWT' });
    }
  });
});
