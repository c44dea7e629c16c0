import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deadLetterQueues,
  channelDescriptions,
  functions,
  httpRoutes,
  queueByName,
  scheduleGroupName,
  tableByName,
  tables,
  websocketRouteSelectionExpression,
} from '../../lib/app-description.ts';
import type { FunctionDescription } from '../../lib/app-description.ts';
import { gatewayRoutes } from '../../lib/http-gateway-routes.ts';
import { HeraldDataStack } from '../../lib/stacks/herald-data-stack.ts';
import { HeraldServiceStack } from '../../lib/stacks/herald-service-stack.ts';
import { configVariables } from '../../shared/config.ts';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald, testContext, testEnv, testSettings } from './synth.ts';
import {
  actionsOf,
  environmentOf,
  functionLogicalId,
  outputsOf,
  prop,
  referencedLogicalIds,
  resolveImports,
  resourcesOf,
  resourcesOfType,
  roleOfFunction,
  statementsAllowing,
  statementsOfFunction,
} from './template-queries.ts';
import type { CfnResource } from './template-queries.ts';

const physical = (name: string): string => `herald-${testSettings.stage}-${name}`;

function described(name: string): FunctionDescription {
  const fn = functions.find((f) => f.name === name);
  if (!fn) throw new Error(`No function ${name} in the description`);
  return fn;
}

function logicalIdIn(herald: SynthesisedHerald, type: string, name: string): string {
  const found = resourcesOfType(herald.data, type).find(
    ([, r]) => prop(r, 'TableName') === physical(name) || prop(r, 'QueueName') === physical(name),
  );
  if (!found) throw new Error(`No ${type} named ${physical(name)}`);
  return found[0];
}

function apiLogicalId(herald: SynthesisedHerald, protocol: 'HTTP' | 'WEBSOCKET'): string {
  const found = resourcesOfType(herald.service, 'AWS::ApiGatewayV2::Api').find(
    ([, api]) => prop(api, 'ProtocolType') === protocol,
  );
  if (!found) throw new Error(`No ${protocol} API`);
  return found[0];
}

describe('the functions', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it.each(functions.map((f) => [f.name, f] as const))(
    'runs %s on nodejs24.x, arm64, traced, sized as described, with source maps',
    (_name, fn) => {
      herald.service.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: physical(fn.name),
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        MemorySize: fn.memoryMb,
        Timeout: fn.timeoutSeconds,
        Handler: `index.${fn.handler}`,
        Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }) },
      });
    },
  );

  it('keeps every function log for a month', () => {
    for (const fn of functions) {
      herald.service.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: `/aws/lambda/${physical(fn.name)}`,
        RetentionInDays: 30,
      });
    }
    const functionLogs = resourcesOfType(herald.service, 'AWS::Logs::LogGroup').filter(([, group]) =>
      String(prop(group, 'LogGroupName')).startsWith('/aws/lambda/'),
    );
    expect(functionLogs).toHaveLength(functions.length);
  });
});

describe('the HTTP API', () => {
  let herald: SynthesisedHerald;
  let authorizerId: string;
  beforeAll(() => {
    herald = synthesiseHerald();
    const [jwt] = resourcesOfType(herald.service, 'AWS::ApiGatewayV2::Authorizer').filter(
      ([, a]) => prop(a, 'AuthorizerType') === 'JWT',
    );
    if (!jwt) throw new Error('No JWT authorizer');
    authorizerId = jwt[0];
  });

  it('verifies bearer tokens against the issuer and audience from context', () => {
    herald.service.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      ApiId: { Ref: apiLogicalId(herald, 'HTTP') },
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: testSettings.jwtIssuer, Audience: [testSettings.jwtAudience] },
    });
  });

  it.each(gatewayRoutes(httpRoutes).filter((r) => r.auth === 'jwt').map((r) => `${r.method} ${r.path}`))(
    'requires a valid JWT on %s',
    (routeKey) => {
      herald.service.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: 'JWT',
        AuthorizerId: { Ref: authorizerId },
      });
    },
  );

  it.each(gatewayRoutes(httpRoutes).filter((r) => r.auth === 'none').map((r) => `${r.method} ${r.path}`))(
    'leaves %s public',
    (routeKey) => {
      herald.service.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: 'NONE',
        AuthorizerId: Match.absent(),
      });
    },
  );

  it('keeps the health check reachable without a token, as uptime probes carry none', () => {
    herald.service.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /health',
      AuthorizationType: 'NONE',
    });
  });

  it('serves every route from the api function', () => {
    herald.service.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      ApiId: { Ref: apiLogicalId(herald, 'HTTP') },
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [functionLogicalId(herald.service, physical('api')), 'Arn'] },
    });
  });

  it('is deployed on an auto-deployed $default stage whose URL is an output', () => {
    herald.service.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiLogicalId(herald, 'HTTP') },
      StageName: '$default',
      AutoDeploy: true,
    });
    expect(outputsOf(herald.service).HttpApiUrl?.Value).toEqual({
      'Fn::GetAtt': [apiLogicalId(herald, 'HTTP'), 'ApiEndpoint'],
    });
  });
});

describe('the WebSocket API', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it('selects routes by the description expression', () => {
    herald.service.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: websocketRouteSelectionExpression,
    });
  });

  it('authorizes $connect with the REQUEST Lambda authorizer reading the token query string', () => {
    const authorizers = resourcesOfType(herald.service, 'AWS::ApiGatewayV2::Authorizer').filter(
      ([, a]) => prop(a, 'AuthorizerType') === 'REQUEST',
    );
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0] ?? ['', { Type: 'missing' }];
    expect(prop(authorizer, 'IdentitySource')).toEqual(['route.request.querystring.token']);
    expect(JSON.stringify(prop(authorizer, 'AuthorizerUri'))).toContain(
      functionLogicalId(herald.service, physical('ws-authorizer')),
    );
    herald.service.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: apiLogicalId(herald, 'WEBSOCKET') },
      RouteKey: '$connect',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
    });
  });

  it.each(['$disconnect', '$default'])('lets %s through without an authorizer (the connection is already authorized)', (routeKey) => {
    herald.service.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: routeKey,
      AuthorizationType: 'NONE',
      AuthorizerId: Match.absent(),
    });
  });

  it('is auto-deployed on the live stage, whose wss URL is an output', () => {
    herald.service.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiLogicalId(herald, 'WEBSOCKET') },
      StageName: 'live',
      AutoDeploy: true,
    });
    expect(JSON.stringify(outputsOf(herald.service).WebSocketUrl?.Value)).toContain('/live');
  });
});

describe('the delivery consumer', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it('reads the delivery queue in described batches and reports partial batch failures', () => {
    const trigger = described('deliver').triggers.find((t) => t.kind === 'queue');
    if (trigger?.kind !== 'queue') throw new Error('deliver has no queue trigger');
    const deliverRef = { Ref: functionLogicalId(herald.service, physical('deliver')) };
    const mappings = resourcesOfType(herald.service, 'AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => JSON.stringify(prop(m, 'FunctionName')) === JSON.stringify(deliverRef),
    );
    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0] ?? ['', { Type: 'missing' }];
    expect(prop(mapping, 'FunctionName')).toEqual({ Ref: functionLogicalId(herald.service, physical('deliver')) });
    expect(prop(mapping, 'BatchSize')).toBe(trigger.batchSize);
    expect(prop(mapping, 'MaximumBatchingWindowInSeconds')).toBe(trigger.maxBatchingWindowSeconds);
    expect(prop(mapping, 'FunctionResponseTypes')).toEqual(['ReportBatchItemFailures']);
    expect(resolveImports(prop(mapping, 'EventSourceArn'), herald.data)).toEqual({
      'Fn::GetAtt': [logicalIdIn(herald, 'AWS::SQS::Queue', 'delivery'), 'Arn'],
    });
  });

  it('may defer a message (ChangeMessageVisibility) and knows the queue URL to do it with', () => {
    const deliveryArn = { 'Fn::GetAtt': [logicalIdIn(herald, 'AWS::SQS::Queue', 'delivery'), 'Arn'] };
    const allowing = statementsAllowing(statementsOfFunction(herald.service, physical('deliver')), 'sqs:ChangeMessageVisibility');
    expect(allowing.flatMap((s) => s.resources).map((r) => resolveImports(r, herald.data))).toEqual([deliveryArn]);
    const env = environmentOf(herald.service, physical('deliver'));
    expect(resolveImports(env[queueByName('delivery').urlEnvVar], herald.data)).toEqual({
      Ref: logicalIdIn(herald, 'AWS::SQS::Queue', 'delivery'),
    });
  });
});

describe('least privilege', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  const awsServices = ['dynamodb:', 'sqs:', 'ses:', 'scheduler:', 'iam:', 'execute-api:'];
  const actionsOfFunction = (name: string): string[] => actionsOf(statementsOfFunction(herald.service, physical(name)));

  it('gives the WebSocket authorizer no AWS access beyond X-Ray and its own logs', () => {
    const actions = actionsOfFunction('ws-authorizer');
    expect(actions.filter((a) => awsServices.some((s) => a.startsWith(s)))).toEqual([]);
    expect(actions.filter((a) => !a.startsWith('xray:'))).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  it('lets every function write logs to its own log group, and to no other', () => {
    for (const fn of functions) {
      const logGroup = resourcesOfType(herald.service, 'AWS::Logs::LogGroup').find(
        ([, group]) => prop(group, 'LogGroupName') === `/aws/lambda/${physical(fn.name)}`,
      );
      const logging = statementsOfFunction(herald.service, physical(fn.name)).filter((s) => s.actions.some((a) => a.startsWith('logs:')));
      expect(logging, fn.name).toEqual([
        { effect: 'Allow', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [{ 'Fn::GetAtt': [logGroup?.[0], 'Arn'] }], condition: undefined },
      ]);
      const [, role] = resourcesOfType(herald.service, 'AWS::IAM::Role').find(([id]) => id === roleOfFunction(herald.service, physical(fn.name))) ?? [];
      expect(role && prop(role, 'ManagedPolicyArns'), `${fn.name} must have no managed policy`).toBeUndefined();
    }
  });

  it('lets the api function receive and delete only on the dead-letter queues an operator redrives, never on a working queue', () => {
    const statements = statementsOfFunction(herald.service, physical('api'));
    const redrivable = deadLetterQueues().filter((q) => q.deadLetters?.redriveTo).map((q) => physical(q.name));
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage']) {
      const queues = statementsAllowing(statements, action)
        .flatMap((statement) => [...statement.resources])
        .flatMap((resource) => referencedLogicalIds(resolveImports(resource, herald.data)))
        .map((logicalId) => String(prop(resourcesOf(herald.data)[logicalId] as CfnResource, 'QueueName')));
      expect(queues.sort(), action).toEqual([...redrivable].sort());
    }
  });

  it('lets the api function send e-mail, for the code that confirms an address a user set for themself', () => {
    // PATCH /v1/me sends it (shared/use-cases/me.ts); the function's access says so.
    expect(described('api').access.sendsEmail).toBe(true);
    expect(statementsAllowing(statementsOfFunction(herald.service, physical('api')), 'ses:SendEmail')).toHaveLength(1);
  });

  it('lets the functions that read inbox items tell the user (post to connections), and nothing else', () => {
    // POST /v1/me/inbox/{id}/read (api) and the markRead route both post inboxChanged frames.
    for (const name of ['api', 'ws-mark-read']) {
      expect(statementsAllowing(statementsOfFunction(herald.service, physical(name)), 'execute-api:ManageConnections'), name).toHaveLength(1);
    }
    const markRead = actionsOfFunction('ws-mark-read');
    // Its logs: its own log group only (proved for every function above).
    expect(markRead.filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('xray:') && !a.startsWith('logs:'))).toEqual(['execute-api:ManageConnections']);
    // Connections now live on the inbox's unread-counter item: the inbox table is all it touches.
    expect(Object.keys(described('ws-mark-read').access.tables ?? {}).sort()).toEqual(['inbox']);
  });

  it('lets only the functions that send Telegram messages read the bot token, and no other secret', () => {
    // The stage's secrets: the bot token, and the VAPID seed (its readers: test/infra/push-and-sms.test.ts).
    const ids = resourcesOfType(herald.data, 'AWS::SecretsManager::Secret').map(([id]) => id);
    const secret = ids.find((id) => id.startsWith('TelegramBotToken'));
    expect(secret).toBeDefined();
    const others = ids.filter((id) => id !== secret);
    expect(others).toHaveLength(1);
    expect(others[0]).toMatch(/^VapidSecret/);
    const senders = functions.filter((fn) => fn.access.sendsTelegram).map((fn) => fn.name);
    // The deliverers, and the api for the code that confirms a chat a user set for themself.
    expect(senders.sort()).toEqual(['api', 'broadcast-deliver', 'deliver']);
    for (const fn of functions) {
      const onToken = statementsOfFunction(herald.service, physical(fn.name)).filter(
        (s) => s.actions.some((a) => a.startsWith('secretsmanager:')) && s.resources.some((r) => JSON.stringify(resolveImports(r, herald.data)).includes(`"${secret}"`)),
      );
      if (!senders.includes(fn.name)) {
        expect(onToken, fn.name).toEqual([]);
        continue;
      }
      expect(actionsOf(onToken), fn.name).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      // A statement may also name the VAPID seed, for a function that pushes too; no other secret.
      const allowed = [secret, ...(fn.access.pushes ? others : [])];
      for (const statement of onToken) {
        for (const resource of statement.resources) {
          const text = JSON.stringify(resolveImports(resource, herald.data));
          expect(allowed.some((id) => text.includes(`"${id}"`)), `${fn.name}: ${text}`).toBe(true);
        }
      }
      expect(environmentOf(herald.service, physical(fn.name))[configVariables.telegramApiUrl], fn.name).toBe('https://api.telegram.org');
    }
  });

  it('tells every function that posts webhooks, on any AWS stage, to reach only public https URLs', () => {
    const posters = functions.filter((fn) => fn.access.postsWebhooks);
    expect(posters.map((fn) => fn.name).sort()).toEqual(['api', 'broadcast-deliver', 'deliver']);
    for (const fn of functions) {
      const mode = environmentOf(herald.service, physical(fn.name))[configVariables.webhookTargets];
      expect(mode, fn.name).toBe(fn.access.postsWebhooks ? 'public-https' : undefined);
    }
  });

  it('lets the deliver function check the recipient inside its inbox transaction, and write the directory only for the webhook channel', () => {
    const recipientsId = logicalIdIn(herald, 'AWS::DynamoDB::Table', 'recipients');
    const onRecipients = statementsOfFunction(herald.service, physical('deliver')).filter((s) =>
      s.resources.some((r) => JSON.stringify(resolveImports(r, herald.data)).includes(`"${recipientsId}"`)),
    );
    expect(actionsOf(onRecipients)).toContain('dynamodb:ConditionCheckItem');
    // A webhook answered 410 has its URL removed from the recipient (and the tenant's signing
    // secret is kept in that table), and a Telegram group upgraded to a supergroup has its new chat
    // id written there: the channels that write the directory.
    expect(actionsOf(onRecipients)).toContain('dynamodb:PutItem');
    const writers = channelDescriptions.filter((c) => c.access.tables?.recipients === 'readWrite').map((c) => c.name);
    expect(writers).toEqual(['telegram', 'webhook']);
    expect(described('deliver').access.tables?.recipients).toBe('readWrite');
  });

  it('lets the deliver function schedule a message\'s return (waits beyond SQS\'s 15 minutes), and no other consumer schedule anything', () => {
    // The deliver function's requeue now sends a wait beyond 15 minutes through a one-shot
    // schedule; the group and role it may use are limited by the test below, as for the api.
    const deliver = actionsOfFunction('deliver');
    expect(deliver.filter((a) => a.startsWith('scheduler:')).sort()).toEqual(['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule', 'scheduler:UpdateSchedule']);
    expect(described('deliver').access.schedulesBroadcasts).toBeUndefined();
    for (const name of ['broadcast-deliver', 'fanout']) {
      expect(actionsOfFunction(name).filter((a) => a.startsWith('scheduler:') || a === 'iam:PassRole'), name).toEqual([]);
    }
  });

  it('grants each function exactly the table access level the description gives it', () => {
    const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    for (const fn of functions) {
      const statements = statementsOfFunction(herald.service, physical(fn.name));
      for (const table of tables) {
        const tableId = logicalIdIn(herald, 'AWS::DynamoDB::Table', table.name);
        // The table's data, not its stream (whose reads come with a stream trigger, tested below).
        const onTable = statements.filter((s) =>
          s.resources.some((r) => {
            const resolved = JSON.stringify(resolveImports(r, herald.data));
            return resolved.includes(`"${tableId}"`) && !resolved.includes('"StreamArn"');
          }),
        );
        const actions = actionsOf(onTable);
        const level = fn.access.tables?.[table.name];
        const where = `${fn.name} on ${table.name}`;
        if (!level) expect(actions, where).toEqual([]);
        else {
          expect(actions, where).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
          const granted = writes.filter((w) => actions.includes(w));
          expect(granted, where).toEqual(level === 'readWrite' ? writes : []);
        }
      }
    }
  });

  it('lets exactly the functions a table\'s stream triggers read that stream, and only read it', () => {
    for (const fn of functions) {
      const statements = statementsOfFunction(herald.service, physical(fn.name));
      for (const table of tables) {
        const streamArn = JSON.stringify({ 'Fn::GetAtt': [logicalIdIn(herald, 'AWS::DynamoDB::Table', table.name), 'StreamArn'] });
        const onStream = statements.filter((s) => s.resources.some((r) => JSON.stringify(resolveImports(r, herald.data)) === streamArn));
        const triggered = fn.triggers.some((t) => t.kind === 'stream' && t.table === table.name);
        expect(actionsOf(onStream).sort(), `${fn.name} on the stream of ${table.name}`).toEqual(
          triggered ? ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'] : [],
        );
      }
    }
  });

  it('lets the metrics function add to the metrics and send a batch it gave up to its DLQ, and nothing else', () => {
    const statements = statementsOfFunction(herald.service, physical('metrics'));
    const sends = statementsAllowing(statements, 'sqs:SendMessage').flatMap((s) => s.resources.map((r) => resolveImports(r, herald.data)));
    expect(sends).toEqual([{ 'Fn::GetAtt': [logicalIdIn(herald, 'AWS::SQS::Queue', 'metrics-dlq'), 'Arn'] }]);
    const metricsTable = JSON.stringify({ 'Fn::GetAtt': [logicalIdIn(herald, 'AWS::DynamoDB::Table', 'metrics'), 'Arn'] });
    const updates = statementsAllowing(statements, 'dynamodb:UpdateItem').flatMap((s) => s.resources.map((r) => JSON.stringify(resolveImports(r, herald.data))));
    expect(updates).toEqual([metricsTable]);
    for (const action of ['ses:SendEmail', 'scheduler:CreateSchedule', 'execute-api:ManageConnections', 'sqs:ReceiveMessage']) {
      expect(statementsAllowing(statements, action), action).toEqual([]);
    }
  });

  it('limits schedule management to the Herald group and role passing to the scheduler role', () => {
    for (const fn of functions) {
      const statements = statementsOfFunction(herald.service, physical(fn.name));
      const scheduling = statements.filter((s) => s.actions.some((a) => a.startsWith('scheduler:')));
      const passing = statementsAllowing(statements, 'iam:PassRole');
      if (!fn.access.schedules) {
        expect(scheduling, fn.name).toEqual([]);
        expect(passing, fn.name).toEqual([]);
        continue;
      }
      expect(scheduling).toEqual([
        {
          effect: 'Allow',
          actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule', 'scheduler:UpdateSchedule'],
          resources: [
            `arn:aws:scheduler:${testEnv.region}:${testEnv.account}:schedule/${scheduleGroupName}-${testSettings.stage}/*`,
          ],
          condition: undefined,
        },
      ]);
      expect(passing).toHaveLength(1);
      expect(passing[0]?.condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
      const [schedulerRole] = resourcesOfType(herald.data, 'AWS::IAM::Role').map(([id]) => id);
      expect(passing[0]?.resources.map((r) => resolveImports(r, herald.data))).toEqual([
        { 'Fn::GetAtt': [schedulerRole, 'Arn'] },
      ]);
    }
  });

  it('gives the sending functions SES send rights on this account identities and Herald’s configuration set only', () => {
    for (const fn of functions) {
      const allowing = statementsAllowing(statementsOfFunction(herald.service, physical(fn.name)), 'ses:SendEmail');
      if (!fn.access.sendsEmail) {
        expect(allowing, fn.name).toEqual([]);
        continue;
      }
      const [identities, configurationSet, ...others] = allowing.flatMap((s) => s.resources);
      expect(identities).toBe(`arn:aws:ses:${testEnv.region}:${testEnv.account}:identity/*`);
      expect(JSON.stringify(configurationSet)).toContain(`:ses:${testEnv.region}:${testEnv.account}:configuration-set/`);
      expect(JSON.stringify(configurationSet)).toContain('EmailFeedbackConfigurationSet');
      expect(others).toEqual([]);
    }
  });

  it('lets only the posting functions manage connections, and only on the live stage', () => {
    for (const fn of functions) {
      const allowing = statementsAllowing(statementsOfFunction(herald.service, physical(fn.name)), 'execute-api:ManageConnections');
      if (!fn.access.postsToConnections) {
        expect(allowing, fn.name).toEqual([]);
        continue;
      }
      const resources = allowing.flatMap((s) => s.resources).map((r) => JSON.stringify(r));
      expect(resources).toHaveLength(1);
      expect(resources[0]).toContain(apiLogicalId(herald, 'WEBSOCKET'));
      expect(resources[0]).toContain('/live/*/@connections/*');
    }
  });
});

describe('the environment each access kind sets', () => {
  let herald: SynthesisedHerald;
  beforeAll(() => {
    herald = synthesiseHerald();
  });

  it('tells scheduling functions the group, role, target, dead-letter queue and lead time', () => {
    for (const fn of functions.filter((f) => f.access.schedules)) {
      const env = environmentOf(herald.service, physical(fn.name));
      expect(env[configVariables.scheduleGroup]).toBe(`${scheduleGroupName}-${testSettings.stage}`);
      expect(env[configVariables.schedulerLeadSeconds]).toBe(String(testSettings.schedulerLeadSeconds));
      const [schedulerRole] = resourcesOfType(herald.data, 'AWS::IAM::Role').map(([id]) => id);
      expect(resolveImports(env[configVariables.schedulerRoleArn], herald.data)).toEqual({ 'Fn::GetAtt': [schedulerRole, 'Arn'] });
      expect(resolveImports(env[queueByName('delivery').arnEnvVar], herald.data)).toEqual({
        'Fn::GetAtt': [logicalIdIn(herald, 'AWS::SQS::Queue', 'delivery'), 'Arn'],
      });
      expect(resolveImports(env[queueByName('scheduler-dlq').arnEnvVar], herald.data)).toEqual({
        'Fn::GetAtt': [logicalIdIn(herald, 'AWS::SQS::Queue', 'scheduler-dlq'), 'Arn'],
      });
    }
  });

  it('tells email senders the sender address from context', () => {
    for (const fn of functions) {
      const env = environmentOf(herald.service, physical(fn.name));
      expect(env[configVariables.emailFrom], fn.name).toBe(fn.access.sendsEmail ? testSettings.emailFrom : undefined);
    }
  });

  it('tells socket posters the https callback URL of the live stage', () => {
    const apiId = apiLogicalId(herald, 'WEBSOCKET');
    for (const fn of functions) {
      const url = environmentOf(herald.service, physical(fn.name))[configVariables.websocketCallbackUrl];
      if (!fn.access.postsToConnections) {
        expect(url, fn.name).toBeUndefined();
        continue;
      }
      expect(url).toEqual({
        'Fn::Join': ['', ['https://', { Ref: apiId }, `.execute-api.${testEnv.region}.`, { Ref: 'AWS::URLSuffix' }, '/live']],
      });
    }
  });

  it('tells token verifiers the issuer, audience and JWKS URL from context', () => {
    for (const fn of functions) {
      const env = environmentOf(herald.service, physical(fn.name));
      const expected = fn.access.verifiesTokens
        ? [testSettings.jwtIssuer, testSettings.jwtAudience, testSettings.jwksUrl]
        : [undefined, undefined, undefined];
      expect([env[configVariables.jwtIssuer], env[configVariables.jwtAudience], env[configVariables.jwksUrl]], fn.name).toEqual(expected);
    }
  });
});

describe('description kinds without a current user', () => {
  const sweep: FunctionDescription = {
    name: 'sweep',
    entry: described('deliver').entry,
    handler: 'handler',
    memoryMb: 256,
    timeoutSeconds: 60,
    triggers: [{ kind: 'rule', ruleName: 'stuck-retry-sweep', schedule: 'rate(5 minutes)' }],
    access: { tables: { notifications: 'readWrite' } },
  };

  function synthesiseWith(fns: readonly FunctionDescription[]): Template {
    const app = new App({ context: testContext() });
    const data = new HeraldDataStack(app, 'Data', { env: testEnv, stage: testSettings.stage });
    const service = new HeraldServiceStack(app, 'Service', {
      env: testEnv,
      settings: testSettings,
      data,
      appDescription: { functions: fns, websocketRouteSelectionExpression },
    });
    return Template.fromStack(service);
  }

  it('turns a rule trigger into an EventBridge rule that invokes its function', () => {
    const template = synthesiseWith([sweep]);
    const fnId = functionLogicalId(template, physical('sweep'));
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: physical('stuck-retry-sweep'),
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
    // No API is built when nothing is routed.
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    expect(tableByName('notifications').envVar in environmentOf(template, physical('sweep'))).toBe(true);
  });

  it('refuses a stream trigger on a table that declares no stream', () => {
    const reader: FunctionDescription = {
      ...sweep,
      triggers: [
        {
          kind: 'stream',
          table: 'recipients',
          batchSize: 100,
          maxBatchingWindowSeconds: 0,
          startingPosition: 'LATEST',
          reportBatchItemFailures: true,
          bisectBatchOnFunctionError: true,
          maximumRetryAttempts: 3,
          onFailure: 'metrics-dlq',
        },
      ],
    };
    expect(() => synthesiseWith([reader])).toThrow(/reads the stream of recipients, which declares none/);
  });

  it('refuses a queue consumer that outlives the queue visibility timeout', () => {
    const slow: FunctionDescription = {
      ...sweep,
      timeoutSeconds: queueByName('delivery').visibilityTimeoutSeconds + 1,
      triggers: [{ kind: 'queue', queue: 'delivery', batchSize: 10, maxBatchingWindowSeconds: 0, reportBatchItemFailures: true, maximumConcurrency: 5 }],
    };
    expect(() => synthesiseWith([slow])).toThrow(/hides messages for 180 s/);
  });
});
