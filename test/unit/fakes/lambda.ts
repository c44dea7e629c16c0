/** Lambda contexts and API Gateway / SQS events, built by hand in the exact AWS envelopes. */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context, SQSRecord } from 'aws-lambda';

/** A Lambda context for one invocation. */
export function aLambdaContext(functionName = 'herald-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:111122223333:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2030/01/01/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** An HTTP API (payload format 2.0) event as API Gateway sends it after its JWT authorizer. */
export function anHttpEvent(request: {
  routeKey: string;
  path?: string;
  pathParameters?: Record<string, string>;
  body?: string;
  /** JWT claims as API Gateway presents them; `undefined` for a route without authorizer. */
  claims?: Record<string, string | number | boolean | string[]>;
}): APIGatewayProxyEventV2WithJWTAuthorizer {
  const [method = 'GET', routePath = '/'] = request.routeKey.split(' ');
  const path = request.path ?? routePath;
  const event = {
    version: '2.0',
    routeKey: request.routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'api.example.com' },
    isBase64Encoded: false,
    ...(request.body !== undefined ? { body: request.body } : {}),
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    requestContext: {
      accountId: '111122223333',
      apiId: 'abc123',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'vitest' },
      requestId: 'req-1',
      routeKey: request.routeKey,
      stage: '$default',
      time: '01/Jan/2030:12:00:00 +0000',
      timeEpoch: 1_893_499_200_000,
      ...(request.claims
        ? { authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: request.claims, scopes: [] } } }
        : {}),
    },
  };
  // A public route has no authorizer at all, which the type (made for JWT routes) does not model.
  return event as APIGatewayProxyEventV2WithJWTAuthorizer;
}

/** One SQS record as the event source mapping hands it to Lambda. */
export function anSqsRecord(messageId: string, body: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1893499200000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1893499200000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:herald-delivery',
    awsRegion: 'eu-west-1',
  };
}
