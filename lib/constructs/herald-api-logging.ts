import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat, CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import { LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import type { IAccessLogSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeFinding } from './nag-acknowledgements.ts';

/** What an access log line holds, by API kind ($context variables of "Customize HTTP API access logs" and "Configure logging for WebSocket APIs"). */
const accessLogFields = {
  http: {
    requestId: '$context.requestId',
    ip: '$context.identity.sourceIp',
    requestTime: '$context.requestTime',
    method: '$context.httpMethod',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatencyMs: '$context.responseLatency',
    integrationLatencyMs: '$context.integrationLatency',
    sub: '$context.authorizer.claims.sub',
    authorizerError: '$context.authorizer.error',
    error: '$context.error.message',
    integrationError: '$context.integrationErrorMessage',
  },
  websocket: {
    requestId: '$context.requestId',
    ip: '$context.identity.sourceIp',
    requestTime: '$context.requestTime',
    eventType: '$context.eventType',
    routeKey: '$context.routeKey',
    connectionId: '$context.connectionId',
    status: '$context.status',
    authorizeError: '$context.authorize.error',
    error: '$context.error.message',
  },
} as const;

/** Properties of {@link HeraldApiAccessLog}. */
export interface HeraldApiAccessLogProps {
  /** Name of the log group the stage writes to. */
  readonly logGroupName: string;
  /** Which API's variables to log. */
  readonly api: keyof typeof accessLogFields;
  /**
   * How long access logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly retention?: RetentionDays;
}

/** A stage's access log: a log group with retention, and one JSON line per request or message. */
export class HeraldApiAccessLog extends Construct {
  /** Where the lines go. */
  readonly logGroup: LogGroup;
  /** What a stage's `accessLogSettings` takes. */
  readonly settings: IAccessLogSettings;

  constructor(scope: Construct, id: string, props: HeraldApiAccessLogProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: props.logGroupName,
      retention: props.retention ?? RetentionDays.ONE_MONTH,
      // Logs of a stateless stack: they go with it, so a redeploy never finds the name taken.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.settings = {
      destination: new LogGroupLogDestination(this.logGroup),
      format: AccessLogFormat.custom(JSON.stringify(accessLogFields[props.api])),
    };
  }
}

/**
 * The role API Gateway writes REST and WebSocket logs with, set as this region's API Gateway
 * account setting: a WebSocket stage with access logs cannot be deployed without it (HTTP APIs
 * need none). The setting is one per account and region, shared by every API there: the role is
 * kept when the stack goes, so the setting never names a deleted role.
 */
export class ApiGatewayAccountLogging extends Construct {
  /** The role API Gateway assumes to write logs. */
  readonly role: Role;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.role = new Role(this, 'Role', {
      description: 'Lets API Gateway write the access logs of REST and WebSocket APIs in this region (the API Gateway account setting)',
      assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
      managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
    });
    this.role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    acknowledgeFinding(
      this.role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      "The account-wide logging role of API Gateway serves every API of the region, whose log groups it creates: AWS's own policy for it, kept current by AWS; only apigateway.amazonaws.com may assume the role",
    );
    const account = new CfnAccount(this, 'Account', { cloudWatchRoleArn: this.role.roleArn });
    account.node.addDependency(this.role);
  }
}
