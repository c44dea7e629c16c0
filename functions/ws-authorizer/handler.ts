/**
 * The WebSocket `$connect` REQUEST authorizer: verifies `?token=` and hands the caller to the
 * connection as authorizer context. Throwing "Unauthorized" makes API Gateway answer 401.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { tokenVerifier } from '../../shared/auth/verify-token.ts';
import { claimsConfig, once, tokenConfig } from '../../shared/config.ts';
import { logger } from '../../shared/observability/logger.ts';

const verify = once(() => tokenVerifier(tokenConfig(), claimsConfig()));

async function authorize(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const token = event.queryStringParameters?.token;
  const reading = token ? await verify()(token) : { refusal: 'no token' };
  if ('refusal' in reading) {
    // API Gateway answers 401 without a body: the reason is for the logs.
    logger.info('Refused a WebSocket connection', { reason: reading.refusal });
    throw new Error('Unauthorized');
  }
  const { caller } = reading;
  return {
    principalId: caller.sub,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
    context: { sub: caller.sub, tenantId: caller.tenantId, roles: caller.roles.join(' ') },
  };
}

export const handler = middy<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(authorize);
