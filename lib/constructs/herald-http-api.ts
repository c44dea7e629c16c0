import { HttpApi, HttpMethod, HttpNoneAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import type { HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { HttpRoute as HttpRouteDescription } from '../app-description.ts';

/** Properties of {@link HeraldHttpApi}. */
export interface HeraldHttpApiProps {
  /** Name of the API in API Gateway. */
  readonly apiName: string;
  /** The `iss` the JWT authorizer accepts (an https URL serving `/.well-known/openid-configuration`). */
  readonly jwtIssuer: string;
  /** The `aud` values the JWT authorizer accepts. */
  readonly jwtAudience: readonly string[];
}

/**
 * Herald's HTTPS API: an HTTP API (payload format 2.0) whose routes require a valid JWT unless
 * the description marks them `auth: 'none'`.
 */
export class HeraldHttpApi extends Construct {
  /** The API Gateway HTTP API, with its `$default` stage auto-deployed. */
  readonly api: HttpApi;
  /** The authorizer on every `auth: 'jwt'` route. */
  readonly jwtAuthorizer: HttpJwtAuthorizer;
  private readonly integrations = new Map<IFunction, HttpLambdaIntegration>();

  constructor(scope: Construct, id: string, props: HeraldHttpApiProps) {
    super(scope, id);
    this.jwtAuthorizer = new HttpJwtAuthorizer('jwt', props.jwtIssuer, {
      authorizerName: 'jwt',
      jwtAudience: [...props.jwtAudience],
    });
    this.api = new HttpApi(this, 'Api', {
      apiName: props.apiName,
      // Secure by default: a route added without an explicit authorizer still needs a token.
      defaultAuthorizer: this.jwtAuthorizer,
    });
  }

  /** The API's base URL (`https://<id>.execute-api.<region>.amazonaws.com`). */
  get url(): string {
    return this.api.apiEndpoint;
  }

  /** Routes `METHOD path` to `handler`, behind the JWT authorizer unless the route is public. */
  addRoute(route: HttpRouteDescription, handler: IFunction): HttpRoute[] {
    return this.api.addRoutes({
      path: route.path,
      methods: [HttpMethod[route.method]],
      integration: this.integrationFor(handler),
      authorizer: route.auth === 'jwt' ? this.jwtAuthorizer : new HttpNoneAuthorizer(),
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
