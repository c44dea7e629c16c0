import { Annotations, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import * as appDescription from '../app-description.ts';
import type { FunctionAccess, FunctionDescription, TableName, Trigger } from '../app-description.ts';
import { HeraldDashboard } from '../constructs/herald-dashboard.ts';
import { HeraldFunction } from '../constructs/herald-function.ts';
import { HeraldHttpApi } from '../constructs/herald-http-api.ts';
import { HeraldWebSocketApi } from '../constructs/herald-websocket-api.ts';
import type { WebSocketConnectAuthorizer } from '../constructs/herald-websocket-api.ts';
import type { HeraldDataStack } from './herald-data-stack.ts';
import { isPlaceholderDomain } from './herald-settings.ts';
import type { HeraldSettings } from './herald-settings.ts';

/** The Telegram Bot API (core.telegram.org/bots/api): one endpoint for every bot. */
const telegramApiUrl = 'https://api.telegram.org';

/** The stateless part of the app description. */
export interface ServiceDescription {
  readonly functions: readonly FunctionDescription[];
  readonly websocketRouteSelectionExpression: string;
}

/** Properties of {@link HeraldServiceStack}. */
export interface HeraldServiceStackProps extends StackProps {
  readonly settings: HeraldSettings;
  /** The tables, queues and scheduler the functions are granted access to, and the topic the service's alarms notify. */
  readonly data: Pick<HeraldDataStack, 'tables' | 'queues' | 'scheduler' | 'emailFeedback' | 'vapidSecret' | 'telegramBotToken' | 'alarmTopic'>;
  /**
   * What to build.
   * @default the functions and WebSocket route selection of lib/app-description.ts
   */
  readonly appDescription?: ServiceDescription;
}

type TriggerOf<K extends Trigger['kind']> = Extract<Trigger, { kind: K }>;

function triggersOf<K extends Trigger['kind']>(fn: FunctionDescription, kind: K): TriggerOf<K>[] {
  return fn.triggers.filter((t): t is TriggerOf<K> => t.kind === kind);
}

/**
 * Herald's stateless resources: one HeraldFunction per described function, the HTTP API, the
 * WebSocket API, queue and stream subscriptions and rules, and the operations dashboard. Everything
 * is derived from the description: the
 * only hand-written wiring maps an access kind to its grant and a trigger kind to its source.
 */
export class HeraldServiceStack extends Stack {
  /** The functions, by description name. */
  readonly functions: ReadonlyMap<string, HeraldFunction>;
  /** The HTTPS API, when some function has an `http` trigger. */
  readonly httpApi?: HeraldHttpApi;
  /** The WebSocket API, when some function has a `websocket` trigger. */
  readonly webSocketApi?: HeraldWebSocketApi;
  /** The operations dashboard: deliveries per channel, queues, dead letters, functions, API. */
  readonly dashboard: HeraldDashboard;
  /** The HTTP API's alarm on server errors (5xx), when there is an HTTP API. */
  readonly serverErrorAlarm?: Alarm;
  private readonly settings: HeraldSettings;
  private readonly data: HeraldServiceStackProps['data'];

  constructor(scope: Construct, id: string, props: HeraldServiceStackProps) {
    super(scope, id, props);
    const description = props.appDescription ?? appDescription;
    const { settings } = props;
    this.settings = settings;
    this.data = props.data;
    const namePrefix = `herald-${settings.stage}`;
    const has = (kind: Trigger['kind']): boolean =>
      description.functions.some((fn) => fn.triggers.some((t) => t.kind === kind));
    // Each API stage's share of API Gateway's regional limits: a flood is answered 429 at the edge.
    const stageThrottle = { rateLimit: settings.api.rateLimitPerSecond, burstLimit: settings.api.burstLimit };

    const functions = new Map<string, HeraldFunction>();
    for (const definition of description.functions) {
      if (functions.has(definition.name)) throw new Error(`Two functions are named ${definition.name}`);
      functions.set(definition.name, new HeraldFunction(this, definition.name, { definition, namePrefix }));
    }
    this.functions = functions;

    if (has('http')) {
      this.httpApi = new HeraldHttpApi(this, 'HttpApi', {
        apiName: `${namePrefix}-http`,
        jwtIssuer: settings.jwtIssuer,
        jwtAudience: [settings.jwtAudience],
        throttle: stageThrottle,
        corsOrigins: settings.api.corsOrigins,
      });
      new CfnOutput(this, 'HttpApiUrl', { value: this.httpApi.url, description: 'Base URL of the HTTPS API' });
      // Sustained, not one: a 503 of a provider's hiccup is answered and retried by its caller; a
      // route that keeps failing (a route group's module that cannot load answers every request of
      // its group 500, with no function error to count) is not.
      this.serverErrorAlarm = new Alarm(this, 'HttpApiServerErrors', {
        alarmName: `${namePrefix}-http-api-5xx`,
        alarmDescription: `The HTTPS API answered 5xx in 3 of the last 5 minutes: see the ${namePrefix}-api function's ERROR logs ("Request failed") for the route and the error`,
        metric: this.httpApi.api.metricServerError({ period: Duration.minutes(1), statistic: Stats.SUM }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        // API Gateway publishes no 5xx datapoint for a minute without requests: no data is no error.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      props.data.alarmTopic.notifyOn(this.serverErrorAlarm);
    }
    if (has('websocket')) {
      this.webSocketApi = new HeraldWebSocketApi(this, 'WebSocketApi', {
        apiName: `${namePrefix}-ws`,
        routeSelectionExpression: description.websocketRouteSelectionExpression,
        throttle: stageThrottle,
      });
      new CfnOutput(this, 'WebSocketUrl', { value: this.webSocketApi.url, description: 'URL WebSocket clients connect to' });
    }

    const connectAuthorizer = this.connectAuthorizer(description.functions);
    for (const fn of functions.values()) {
      this.grantAccess(fn, fn.definition.access);
      this.wireTriggers(fn, connectAuthorizer);
    }
    this.dashboard = new HeraldDashboard(this, 'Dashboard', {
      dashboardName: namePrefix,
      channels: appDescription.channelDescriptions.map((channel) => channel.name),
      queues: props.data.queues.all(),
      functions,
      httpApi: this.httpApi?.api,
    });
    this.warnAboutPlaceholders();
  }

  /** Maps each access kind of the description to its grant and environment variables. */
  private grantAccess(fn: HeraldFunction, access: FunctionAccess): void {
    const { tables, queues, scheduler } = this.data;
    for (const [name, level] of Object.entries(access.tables ?? {})) {
      if (level) fn.bindTable(tables.get(name as TableName), level);
    }
    for (const queue of access.sendsTo ?? []) fn.bindQueue(queues.get(queue));
    if (access.redrivesDeadLetters) {
      fn.bindDeadLetterQueues(
        appDescription.deadLetterQueues().map((dlq) => ({
          queue: queues.get(dlq.name),
          ...(dlq.deadLetters?.redriveTo ? { redriveTo: queues.get(dlq.deadLetters.redriveTo) } : {}),
        })),
      );
    }
    if (access.schedules) fn.bindScheduler(scheduler, { leadSeconds: this.settings.schedulerLeadSeconds, firesPerSecond: this.settings.schedulerFiresPerSecond });
    if (access.schedulesBroadcasts) fn.bindBroadcastScheduler(scheduler, { leadSeconds: this.settings.schedulerLeadSeconds, firesPerSecond: this.settings.schedulerFiresPerSecond });
    if (access.sendsEmail) {
      const { emailFeedback } = this.data;
      fn.bindEmail({ from: this.settings.emailFrom, configurationSet: { name: emailFeedback.configurationSet.configurationSetName, arn: emailFeedback.configurationSetArn } });
    }
    if (access.sendsSms) fn.bindSms();
    if (access.pushes) fn.bindPush(this.data.vapidSecret, this.settings.push, { role: access.pushes, emailFrom: this.settings.emailFrom });
    if (access.postsToConnections) {
      if (!this.webSocketApi) throw new Error(`${fn.definition.name} posts to connections, but no function serves a WebSocket route`);
      fn.bindConnections(this.webSocketApi.stage);
    }
    if (access.sendsTelegram) fn.bindTelegram(this.data.telegramBotToken, { apiUrl: telegramApiUrl });
    // Every AWS stage: webhooks only to public https URLs (the local stack alone allows any).
    if (access.postsWebhooks) fn.bindWebhooks('public-https');
    if (access.settings?.includes('retry')) fn.bindRetryPolicy(this.settings.retry);
    if (access.settings?.includes('sweeps')) fn.bindSweepSettings(this.settings.sweeps);
    if (access.settings?.includes('delivery')) fn.bindDeliverySettings(this.settings.delivery);
    if (access.settings?.includes('sendBudgets')) fn.bindSendBudgets(this.settings.delivery);
    if (access.settings?.includes('selfSend')) fn.bindSelfSendSettings(this.settings.selfSend);
    if (access.settings?.includes('claims')) fn.bindClaimsSettings(this.settings.claims);
    if (access.settings?.includes('requestQuota')) fn.bindRequestQuota(this.settings.api.tenantRequestsPerSecond);
    if (access.verifiesTokens) {
      fn.bindTokenVerification({
        issuer: this.settings.jwtIssuer,
        audience: this.settings.jwtAudience,
        jwksUrl: this.settings.jwksUrl,
      });
    }
  }

  /** Maps each trigger kind of the description to its event source. */
  private wireTriggers(fn: HeraldFunction, connectAuthorizer: WebSocketConnectAuthorizer | undefined): void {
    for (const trigger of fn.definition.triggers) {
      switch (trigger.kind) {
        case 'http':
          this.httpApi?.addRoutes(trigger.routes, fn);
          break;
        case 'websocket':
          this.webSocketApi?.addRoute(trigger.route, fn, trigger.route === '$connect' ? connectAuthorizer : undefined);
          break;
        case 'websocket-authorizer':
          // Wired into $connect by connectAuthorizer().
          break;
        case 'queue':
          fn.consumeQueue(this.data.queues.get(trigger.queue), trigger);
          break;
        case 'stream':
          fn.consumeStream(this.data.tables.get(trigger.table), this.data.queues.get(trigger.onFailure), trigger);
          break;
        case 'rule':
          fn.runOnSchedule(trigger.ruleName, trigger.schedule);
          break;
      }
    }
  }

  // At most one function may authorize connections, and it needs a $connect route to guard.
  private connectAuthorizer(functions: readonly FunctionDescription[]): WebSocketConnectAuthorizer | undefined {
    const authorizers = functions.flatMap((definition) =>
      triggersOf(definition, 'websocket-authorizer').map((trigger) => ({ definition, trigger })),
    );
    if (authorizers.length === 0) return undefined;
    const [first, ...others] = authorizers;
    if (!first || others.length > 0) throw new Error('The description holds more than one WebSocket authorizer');
    const guardsConnect = functions.some((fn) => triggersOf(fn, 'websocket').some((t) => t.route === '$connect'));
    if (!guardsConnect) throw new Error(`${first.definition.name} authorizes WebSocket connections, but no function serves $connect`);
    const handler = this.functions.get(first.definition.name);
    if (!handler) throw new Error(`No function named ${first.definition.name}`);
    return { handler, identitySource: [first.trigger.identitySource] };
  }

  // cdk.json ships documentation-domain placeholders so that synth works out of the box;
  // deploying them yields an API that rejects every token and mail that never leaves SES.
  private warnAboutPlaceholders(): void {
    const { jwtIssuer, jwksUrl, emailFrom } = this.settings;
    const domains = [new URL(jwtIssuer).hostname, new URL(jwksUrl).hostname, emailFrom.split('@').pop() ?? ''];
    if (domains.some(isPlaceholderDomain)) {
      Annotations.of(this).addWarningV2(
        'herald:placeholder-settings',
        'herald:jwtIssuer, herald:jwksUrl or herald:emailFrom is a placeholder (example.com): pass real values with -c before deploying',
      );
    }
  }
}
