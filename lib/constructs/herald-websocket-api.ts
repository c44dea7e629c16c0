import { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ThrottleSettings, WebSocketRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ApiGatewayAccountLogging, HeraldApiAccessLog } from './herald-api-logging.ts';
import { acknowledgeFinding } from './nag-acknowledgements.ts';

/** Properties of {@link HeraldWebSocketApi}. */
export interface HeraldWebSocketApiProps {
  /** Name of the API in API Gateway (and of its access log group, `/aws/apigateway/<name>`). */
  readonly apiName: string;
  /** How API Gateway picks the route of an incoming message. */
  readonly routeSelectionExpression: string;
  /**
   * The stage clients connect to; part of the URL and of the Management API endpoint.
   * @default 'live'
   */
  readonly stageName?: string;
  /**
   * Steady rate and burst of connections and messages the stage accepts, all clients together.
   * @default the account's regional limits only
   */
  readonly throttle?: ThrottleSettings;
  /**
   * How long access logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: RetentionDays;
}

/** A REQUEST authorizer for `$connect`: the function and where it finds the token. */
export interface WebSocketConnectAuthorizer {
  readonly handler: IFunction;
  /** e.g. `route.request.querystring.token`; a request without it is refused before the Lambda runs. */
  readonly identitySource: readonly string[];
}

/**
 * Herald's WebSocket API with one auto-deployed stage, throttled stage-wide, with access logs (and
 * the region's API Gateway logging role they need).
 */
export class HeraldWebSocketApi extends Construct {
  /** The API Gateway WebSocket API. */
  readonly api: WebSocketApi;
  /** The stage clients connect to and functions post back through. */
  readonly stage: WebSocketStage;
  /** Where the stage logs each connection and message. */
  readonly accessLog: HeraldApiAccessLog;
  private readonly integrations = new Map<IFunction, WebSocketLambdaIntegration>();

  constructor(scope: Construct, id: string, props: HeraldWebSocketApiProps) {
    super(scope, id);
    this.api = new WebSocketApi(this, 'Api', {
      apiName: props.apiName,
      routeSelectionExpression: props.routeSelectionExpression,
    });
    this.accessLog = new HeraldApiAccessLog(this, 'AccessLog', {
      logGroupName: `/aws/apigateway/${props.apiName}`,
      api: 'websocket',
      retention: props.accessLogRetention,
    });
    const accountLogging = new ApiGatewayAccountLogging(this, 'AccountLogging');
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName ?? 'live',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: this.accessLog.settings,
    });
    // API Gateway refuses a stage's logging until the region's logging role is set.
    this.stage.node.addDependency(accountLogging);
  }

  /** The URL clients connect to (`wss://<id>.execute-api.<region>.amazonaws.com/<stage>`). */
  get url(): string {
    return this.stage.url;
  }

  /**
   * Routes `routeKey` to `handler`. An authorizer is only accepted on `$connect`: API Gateway
   * authorizes a connection once, when it opens.
   */
  addRoute(routeKey: string, handler: IFunction, authorizer?: WebSocketConnectAuthorizer): WebSocketRoute {
    if (authorizer && routeKey !== '$connect') {
      throw new Error(`A WebSocket authorizer can only guard $connect, not ${routeKey}`);
    }
    const route = this.api.addRoute(routeKey, {
      integration: this.integrationFor(handler),
      authorizer: authorizer
        ? new WebSocketLambdaAuthorizer(`${authorizer.handler.node.id}Authorizer`, authorizer.handler, {
            authorizerName: authorizer.handler.node.id,
            identitySource: [...authorizer.identitySource],
          })
        : undefined,
    });
    if (!authorizer && routeKey !== '$connect') {
      acknowledgeFinding(
        route,
        'AwsSolutions-APIG4',
        `${routeKey} takes no authorizer: API Gateway authorizes a WebSocket connection once, on $connect (the REQUEST authorizer), and every later route runs on that authorized connection`,
      );
    }
    return route;
  }

  // One integration per function, shared by its routes, as on the HTTP API.
  private integrationFor(handler: IFunction): WebSocketLambdaIntegration {
    let integration = this.integrations.get(handler);
    if (!integration) {
      integration = new WebSocketLambdaIntegration(`${handler.node.id}Integration`, handler);
      this.integrations.set(handler, integration);
    }
    return integration;
  }
}
