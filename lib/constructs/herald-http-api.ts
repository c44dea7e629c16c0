import { Duration } from 'aws-cdk-lib';
import { CorsHttpMethod, HttpApi, HttpMethod, HttpNoneAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import type { HttpRoute, HttpStage, ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HttpRoute as HttpRouteDescription } from '../app-description.ts';
import { gatewayRoutes } from '../http-gateway-routes.ts';
import { HeraldApiAccessLog } from './herald-api-logging.ts';
import { acknowledgeFinding } from './nag-acknowledgements.ts';

/** The request headers Herald's browser clients send: the bearer token, JSON bodies, retry-safe creates. */
export const corsAllowedHeaders: readonly string[] = ['authorization', 'content-type', 'idempotency-key'];

/** Properties of {@link HeraldHttpApi}. */
export interface HeraldHttpApiProps {
  /** Name of the API in API Gateway (and of its access log group, `/aws/apigateway/<name>`). */
  readonly apiName: string;
  /** The `iss` the JWT authorizer accepts (an https URL serving `/.well-known/openid-configuration`). */
  readonly jwtIssuer: string;
  /** The `aud` values the JWT authorizer accepts. */
  readonly jwtAudience: readonly string[];
  /**
   * Steady rate and burst of requests the stage accepts, all clients together (beyond them: 429).
   * @default the account's regional limits only
   */
  readonly throttle?: ThrottleSettings;
  /**
   * Origins whose browsers may call the API: API Gateway then answers their preflight requests
   * and adds the CORS headers to every answer.
   * @default none: no CORS headers, browsers of other origins cannot read the answers
   */
  readonly corsOrigins?: readonly string[];
  /**
   * How long access logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: RetentionDays;
}

/**
 * Herald's HTTPS API: an HTTP API (payload format 2.0) whose routes require a valid JWT unless
 * the description marks them `auth: 'none'`, on an auto-deployed `$default` stage with a
 * stage-wide rate limit and access logs. A described path ending in `/` is deployed as a greedy
 * route (lib/http-gateway-routes.ts), since a route key cannot end in `/`.
 */
export class HeraldHttpApi extends Construct {
  /** The API Gateway HTTP API. */
  readonly api: HttpApi;
  /** Its `$default` stage. */
  readonly stage: HttpStage;
  /** The authorizer on every `auth: 'jwt'` route. */
  readonly jwtAuthorizer: HttpJwtAuthorizer;
  /** Where the stage logs each request. */
  readonly accessLog: HeraldApiAccessLog;
  private readonly integrations = new Map<IFunction, HttpLambdaIntegration>();

  constructor(scope: Construct, id: string, props: HeraldHttpApiProps) {
    super(scope, id);
    this.jwtAuthorizer = new HttpJwtAuthorizer('jwt', props.jwtIssuer, {
      authorizerName: 'jwt',
      jwtAudience: [...props.jwtAudience],
    });
    const corsOrigins = props.corsOrigins ?? [];
    this.api = new HttpApi(this, 'Api', {
      apiName: props.apiName,
      // Secure by default: a route added without an explicit authorizer still needs a token.
      defaultAuthorizer: this.jwtAuthorizer,
      // The stage below carries the throttling and access logs the default one cannot.
      createDefaultStage: false,
      corsPreflight:
        corsOrigins.length === 0
          ? undefined
          : {
              allowOrigins: [...corsOrigins],
              allowHeaders: [...corsAllowedHeaders],
              allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.PUT, CorsHttpMethod.PATCH, CorsHttpMethod.DELETE],
              // A throttled client reads when to come back.
              exposeHeaders: ['retry-after'],
              maxAge: Duration.hours(1),
            },
    });
    this.accessLog = new HeraldApiAccessLog(this, 'AccessLog', {
      logGroupName: `/aws/apigateway/${props.apiName}`,
      api: 'http',
      retention: props.accessLogRetention,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: this.accessLog.settings,
    });
  }

  /** The API's base URL (`https://<id>.execute-api.<region>.amazonaws.com`). */
  get url(): string {
    return this.api.apiEndpoint;
  }

  /**
   * Serves every described route with `handler`, each behind the JWT authorizer unless it is
   * public; paths ending in `/` on their greedy routes.
   */
  addRoutes(routes: readonly HttpRouteDescription[], handler: IFunction): HttpRoute[] {
    return gatewayRoutes(routes).flatMap((route) => {
      const added = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: this.integrationFor(handler),
        authorizer: route.auth === 'jwt' ? this.jwtAuthorizer : new HttpNoneAuthorizer(),
      });
      if (route.auth === 'none') {
        for (const publicRoute of added) {
          acknowledgeFinding(
            publicRoute,
            'AwsSolutions-APIG4',
            `${route.method} ${route.path} is public by design (auth: 'none' in lib/app-description.ts): uptime probes and API documentation carry no token`,
          );
        }
      }
      return added;
    });
  }

  // One integration per function, shared by its routes, instead of one per route.
  private integrationFor(handler: IFunction): HttpLambdaIntegration {
    let integration = this.integrations.get(handler);
    if (!integration) {
      integration = new HttpLambdaIntegration(`${handler.node.id}Integration`, handler);
      this.integrations.set(handler, integration);
    }
    return integration;
  }
}
