import { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { WebSocketRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** Properties of {@link HeraldWebSocketApi}. */
export interface HeraldWebSocketApiProps {
  /** Name of the API in API Gateway. */
  readonly apiName: string;
  /** How API Gateway picks the route of an incoming message. */
  readonly routeSelectionExpression: string;
  /**
   * The stage clients connect to; part of the URL and of the Management API endpoint.
   * @default 'live'
   */
  readonly stageName?: string;
}

/** A REQUEST authorizer for `$connect`: the function and where it finds the token. */
export interface WebSocketConnectAuthorizer {
  readonly handler: IFunction;
  /** e.g. `route.request.querystring.token`; a request without it is refused before the Lambda runs. */
  readonly identitySource: readonly string[];
}

/** Herald's WebSocket API with one auto-deployed stage. */
export class HeraldWebSocketApi extends Construct {
  /** The API Gateway WebSocket API. */
  readonly api: WebSocketApi;
  /** The stage clients connect to and functions post back through. */
  readonly stage: WebSocketStage;
  private readonly integrations = new Map<IFunction, WebSocketLambdaIntegration>();

  constructor(scope: Construct, id: string, props: HeraldWebSocketApiProps) {
    super(scope, id);
    this.api = new WebSocketApi(this, 'Api', {
      apiName: props.apiName,
      routeSelectionExpression: props.routeSelectionExpression,
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName ?? 'live',
      autoDeploy: true,
    });
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
    return this.api.addRoute(routeKey, {
      integration: this.integrationFor(handler),
      authorizer: authorizer
        ? new WebSocketLambdaAuthorizer(`${authorizer.handler.node.id}Authorizer`, authorizer.handler, {
            authorizerName: authorizer.handler.node.id,
            identitySource: [...authorizer.identitySource],
          })
        : undefined,
    });
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
