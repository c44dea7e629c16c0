/**
 * The AWS stacks and the local stack agree: both are built from lib/app-description.ts, and this
 * test compares what each actually built — tables, queues, HTTP routes and each function's
 * environment — side by side.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functions, httpRoutes, queues, tables } from '../../lib/app-description.ts';
import { gatewayRoutes } from '../../lib/http-gateway-routes.ts';
import { synthesiseHerald, testSettings } from '../infra/synth.ts';
import type { SynthesisedHerald } from '../infra/synth.ts';
import { environmentOf, prop, resourcesOfType } from '../infra/template-queries.ts';
import { startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let h: Harness;
let aws: SynthesisedHerald;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(async () => {
  aws = synthesiseHerald();
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

/** A table's shape, without its physical name: keys, indexes, TTL attribute and stream view. */
interface TableShape {
  keys: string[];
  indexes: string[];
  ttl: string | undefined;
  stream: string | undefined;
}

function keyList(schema: readonly { AttributeName?: string; KeyType?: string }[] | undefined): string {
  return (schema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
}

function awsTables(): Map<string, TableShape> {
  const shapes = new Map<string, TableShape>();
  for (const [, table] of resourcesOfType(aws.data, 'AWS::DynamoDB::Table')) {
    const name = (prop(table, 'TableName') as string).replace(`herald-${testSettings.stage}-`, '');
    const gsis = (prop(table, 'GlobalSecondaryIndexes') ?? []) as { IndexName: string; KeySchema: { AttributeName: string; KeyType: string }[] }[];
    const ttl = prop(table, 'TimeToLiveSpecification') as { AttributeName?: string; Enabled?: boolean } | undefined;
    const stream = prop(table, 'StreamSpecification') as { StreamViewType?: string } | undefined;
    shapes.set(name, {
      keys: [keyList(prop(table, 'KeySchema') as { AttributeName: string; KeyType: string }[])],
      indexes: gsis.map((g) => `${g.IndexName}(${keyList(g.KeySchema)})`).sort(),
      ttl: ttl?.Enabled ? ttl.AttributeName : undefined,
      stream: stream?.StreamViewType,
    });
  }
  return shapes;
}

/** The names of the variables the CDK sets on a function, bar the runtime's NODE_OPTIONS. */
function awsVariables(name: string): string[] {
  return Object.keys(environmentOf(aws.service, `herald-${testSettings.stage}-${name}`)).filter((key) => key !== 'NODE_OPTIONS');
}

function localVariables(name: string): string[] {
  const fn = h.stack.functions[name];
  if (!fn) throw new Error(`The local stack has no function ${name}`);
  return Object.keys(fn.environment);
}

describe('the local stack and the AWS stacks', () => {
  it('give each function the same variables, locally plus the SDK endpoints and the test’s log level', () => {
    // Prepare
    const localOnly = [
      'AWS_ENDPOINT_URL_DYNAMODB',
      'AWS_ENDPOINT_URL_SQS',
      'AWS_ENDPOINT_URL_SES',
      'AWS_ENDPOINT_URL_SESV2',
      'HERALD_SDK_CONNECTION_TIMEOUT_MS',
      'HERALD_SDK_REQUEST_TIMEOUT_MS',
      'AWS_ENDPOINT_URL_SCHEDULER',
      'AWS_ENDPOINT_URL_SNS',
      'AWS_ENDPOINT_URL_SECRETS_MANAGER',
      'HERALD_PUSH_ALLOW_HTTP_LOOPBACK',
      'POWERTOOLS_LOG_LEVEL',
    ];

    // Act
    const local = Object.fromEntries(functions.map((fn) => [fn.name, localVariables(fn.name).sort()]));

    // Assess
    expect(local).toEqual(Object.fromEntries(functions.map((fn) => [fn.name, [...awsVariables(fn.name), ...localOnly].sort()])));
  });

  it('let no function see a variable another function was given for what it may not touch', () => {
    // Prepare
    const pairs = functions.flatMap((seer) => functions.filter((owner) => owner !== seer).map((owner) => ({ seer, owner })));

    // Act
    const seen = pairs.flatMap(({ seer, owner }) => {
      const ownersOnly = awsVariables(owner.name).filter((key) => !awsVariables(seer.name).includes(key));
      return ownersOnly.filter((key) => localVariables(seer.name).includes(key)).map((key) => `${seer.name} sees ${owner.name}'s ${key}`);
    });

    // Assess
    expect(pairs.length).toBeGreaterThan(0);
    expect(seen).toEqual([]);
  });

  it('create the same tables, with the same keys, indexes and streams', async () => {
    // Prepare
    const dynamo = new DynamoDBClient({ endpoint: h.stack.endpoints.dynamodb, region: 'us-east-1', credentials });
    const expected = awsTables();
    // Act
    const local = new Map<string, TableShape>();
    for (const [logical, physical] of Object.entries(h.stack.tableNames)) {
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: physical }));
      local.set(logical, {
        keys: [keyList(Table?.KeySchema)],
        indexes: (Table?.GlobalSecondaryIndexes ?? []).map((g) => `${g.IndexName}(${keyList(g.KeySchema)})`).sort(),
        ttl: expected.get(logical)?.ttl,
        stream: Table?.StreamSpecification?.StreamEnabled ? Table.StreamSpecification.StreamViewType : undefined,
      });
    }
    dynamo.destroy();
    // Assess
    expect([...local.keys()].sort()).toEqual(tables.map((t) => t.name).sort());
    expect(Object.fromEntries(local)).toEqual(Object.fromEntries(expected));
  });

  it('expire items through TTL on exactly the tables AWS gives a TTL attribute', async () => {
    // Prepare: dynalite keeps no TTL setting, so the local stack reaps by the description.
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: h.stack.endpoints.dynamodb, region: 'us-east-1', credentials }));
    const past = Math.floor(Date.now() / 1000) - 60;
    for (const table of tables) {
      const base: Record<string, unknown> = {};
      for (const key of [table.partitionKey, table.sortKey, ...table.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
        if (key) base[key.name] = key.type === 'N' ? 1 : `ttl-probe-${key.name}`;
      }
      const ttlName = table.ttlAttribute ?? 'expiresAt';
      await db.send(new PutCommand({ TableName: h.stack.tableNames[table.name], Item: { ...base, [ttlName]: past } }));
    }
    // Act
    const reaped = await h.stack.reapExpiredItems();
    db.destroy();
    // Assess
    const awsTtl = Object.fromEntries([...awsTables()].filter(([, shape]) => shape.ttl).map(([name]) => [name, 1]));
    expect(reaped).toEqual(awsTtl);
  });

  it('create the same queues, with the same visibility and dead-letter limits', async () => {
    // Prepare
    const sqs = new SQSClient({ endpoint: h.stack.endpoints.sqs, region: 'us-east-1', credentials, useQueueUrlAsEndpoint: false });
    const expected = Object.fromEntries(
      resourcesOfType(aws.data, 'AWS::SQS::Queue').map(([, q]) => [
        (prop(q, 'QueueName') as string).replace(`herald-${testSettings.stage}-`, ''),
        {
          visibility: String(prop(q, 'VisibilityTimeout')),
          maxReceiveCount: (prop(q, 'RedrivePolicy') as { maxReceiveCount?: number } | undefined)?.maxReceiveCount,
        },
      ]),
    );
    // Act
    const local: Record<string, { visibility: string | undefined; maxReceiveCount: number | undefined }> = {};
    for (const [name, url] of Object.entries(h.stack.queueUrls)) {
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
      const redrive = Attributes?.RedrivePolicy ? (JSON.parse(Attributes.RedrivePolicy) as { maxReceiveCount: number | string }) : undefined;
      local[name] = {
        visibility: Attributes?.VisibilityTimeout,
        maxReceiveCount: redrive ? Number(redrive.maxReceiveCount) : undefined,
      };
    }
    sqs.destroy();
    // Assess
    expect(Object.keys(local).sort()).toEqual(queues.map((q) => q.name).sort());
    expect(local).toEqual(expected);
  });

  it('serve the same HTTP routes, guarded by the JWT authorizer exactly where AWS guards them', async () => {
    // Prepare
    const [httpApi] = resourcesOfType(aws.service, 'AWS::ApiGatewayV2::Api').find(([, api]) => prop(api, 'ProtocolType') === 'HTTP') ?? [];
    const awsRoutes = Object.fromEntries(
      resourcesOfType(aws.service, 'AWS::ApiGatewayV2::Route')
        // The HTTP API's routes only: WebSocket route keys (`$connect`, `markRead`) are no HTTP routes.
        .filter(([, r]) => JSON.stringify(prop(r, 'ApiId')) === JSON.stringify({ Ref: httpApi }))
        .map(([, r]) => [prop(r, 'RouteKey') as string, prop(r, 'AuthorizationType') === 'JWT' ? 'jwt' : 'none']),
    );
    // Act: unauthenticated, a guarded route answers the authorizer's 401, a public one runs, and
    // an undeclared one is the gateway's own 404.
    // Each described path is called as its clients call it; it must reach the route AWS deploys for it
    // (a path ending in `/`: its greedy route, lib/http-gateway-routes.ts).
    const local: Record<string, string> = {};
    for (const deployed of gatewayRoutes(httpRoutes)) {
      for (const route of deployed.serves) {
        const path = route.path.replace(/\{[^}]+\}/g, 'x');
        const response = await fetch(`${h.stack.httpUrl}${path}`, { method: route.method });
        local[`${deployed.method} ${deployed.path}`] = response.status === 401 ? 'jwt' : 'none';
        expect(await response.text()).not.toBe('{"message":"Not Found"}');
      }
    }
    const undeclared = await fetch(`${h.stack.httpUrl}/v1/nowhere`);
    // Assess
    expect(local).toEqual(awsRoutes);
    expect(undeclared.status).toBe(404);
  });
});
