import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ClaimsConfig } from '../../shared/config.ts';
import { HeraldConsole } from '../constructs/herald-console.ts';
import type { HeraldServiceStack } from './herald-service-stack.ts';

/** Properties of {@link HeraldConsoleStack}. */
export interface HeraldConsoleStackProps extends StackProps {
  /** The APIs the console calls. */
  readonly service: Pick<HeraldServiceStack, 'httpApi' | 'webSocketApi'>;
  /** The JWT issuer whose tokens the API accepts. */
  readonly jwtIssuer: string;
  /** The claims the API reads the caller from, which the console reads the same way. */
  readonly claims: ClaimsConfig;
}

/**
 * The console, apart from the service: a static site that depends on the APIs (their domain and
 * URL) and on nothing stateful, deployed after them. Apart, too, because the CDK's
 * BucketDeployment brings a Lambda function of its own that is not one of Herald's.
 */
export class HeraldConsoleStack extends Stack {
  readonly console: HeraldConsole;

  constructor(scope: Construct, id: string, props: HeraldConsoleStackProps) {
    super(scope, id, props);
    const { httpApi, webSocketApi } = props.service;
    if (!httpApi || !webSocketApi) throw new Error('The console needs the HTTP API and the WebSocket API of the service stack');
    this.console = new HeraldConsole(this, 'Console', {
      apiDomainName: `${httpApi.api.apiId}.execute-api.${this.region}.${this.urlSuffix}`,
      webSocketUrl: webSocketApi.url,
      jwtIssuer: props.jwtIssuer,
      claims: props.claims,
    });
    new CfnOutput(this, 'ConsoleUrl', { value: this.console.url, description: 'Where to open the Herald console' });
  }
}
