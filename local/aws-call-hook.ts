/**
 * The fault and call-count hook of the local stack's AWS endpoints. The functions'
 * `AWS_ENDPOINT_URL_<SERVICE>` point at the "faultable" endpoint of each emulator, whose request
 * handler names the operation of each request the way AWS routes it (the `X-Amz-Target` header of
 * the JSON protocols, `Action=` of the query protocol, method and path of the REST services) and
 * calls this hook before serving it: the call is counted (`GET /_local/calls`) and, when a fault
 * rule fires, answered with the error in that service's own wire format, so the SDK raises the
 * same exception class, with the same status, retryable or not, as it would on AWS. The stack's
 * own clients (table and queue creation, the event-source mapping's polling, the scheduler's
 * firing, the TTL reaper) use the plain endpoints, which have no hook: on AWS those calls are made
 * by AWS's services, not the customer's functions. Requests the hook cannot name (SES's mail
 * viewer, unknown paths) are always served.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ApiCallCounter } from './api-call-counter.ts';
import type { FaultError, FaultInjector, FaultService } from './fault-rules.ts';

/** How a service encodes its requests and errors on the wire. */
export type WireProtocol = 'awsJson' | 'awsQuery' | 'restJson';

/** The operation a request calls, and the protocol its error answer must use. */
export interface RecognisedCall {
  readonly operation: string;
  readonly protocol: WireProtocol;
}

/** `X-Amz-Target` prefixes of the JSON-protocol services. */
const targetPrefixes: Partial<Record<FaultService, string>> = {
  dynamodb: 'DynamoDB_20120810.',
  sqs: 'AmazonSQS.',
  secretsmanager: 'secretsmanager.',
};

/** EventBridge Scheduler's restJson1 routes (its Smithy model's `@http` traits). */
const schedulerRoutes: readonly (readonly [method: string, path: RegExp, operation: string])[] = [
  ['POST', /^\/schedules\/[^/]+$/, 'CreateSchedule'],
  ['GET', /^\/schedules\/[^/]+$/, 'GetSchedule'],
  ['PUT', /^\/schedules\/[^/]+$/, 'UpdateSchedule'],
  ['DELETE', /^\/schedules\/[^/]+$/, 'DeleteSchedule'],
  ['GET', /^\/schedules$/, 'ListSchedules'],
  ['POST', /^\/schedule-groups\/[^/]+$/, 'CreateScheduleGroup'],
  ['GET', /^\/schedule-groups\/[^/]+$/, 'GetScheduleGroup'],
  ['DELETE', /^\/schedule-groups\/[^/]+$/, 'DeleteScheduleGroup'],
  ['GET', /^\/schedule-groups$/, 'ListScheduleGroups'],
  ['POST', /^\/tags\/[^/]+$/, 'TagResource'],
  ['DELETE', /^\/tags\/[^/]+$/, 'UntagResource'],
  ['GET', /^\/tags\/[^/]+$/, 'ListTagsForResource'],
];

/** SES v2's restJson1 routes (its Smithy model's `@http` traits) that aws-ses-v2-local serves. */
const sesV2Routes: readonly (readonly [method: string, path: RegExp, operation: string])[] = [
  ['POST', /^\/v2\/email\/outbound-emails$/, 'SendEmail'],
  ['POST', /^\/v2\/email\/outbound-bulk-emails$/, 'SendBulkEmail'],
  ['GET', /^\/v2\/email\/account$/, 'GetAccount'],
  ['POST', /^\/v2\/email\/templates$/, 'CreateEmailTemplate'],
  ['GET', /^\/v2\/email\/templates$/, 'ListEmailTemplates'],
  ['GET', /^\/v2\/email\/templates\/[^/]+$/, 'GetEmailTemplate'],
  ['PUT', /^\/v2\/email\/templates\/[^/]+$/, 'UpdateEmailTemplate'],
  ['DELETE', /^\/v2\/email\/templates\/[^/]+$/, 'DeleteEmailTemplate'],
  ['POST', /^\/v2\/email\/templates\/[^/]+\/render$/, 'TestRenderEmailTemplate'],
];

const connectionOperations: Readonly<Record<string, string>> = {
  POST: 'PostToConnection',
  GET: 'GetConnection',
  DELETE: 'DeleteConnection',
};

/** True when the request is a query-protocol call whose `Action=` is in the form-encoded body. */
export function carriesFormBody(headers: IncomingHttpHeaders): boolean {
  return (headers['content-type'] ?? '').includes('application/x-www-form-urlencoded');
}

function queryAction(url: URL, headers: IncomingHttpHeaders, body: Buffer | undefined): string | undefined {
  const fromUrl = url.searchParams.get('Action');
  if (fromUrl) return fromUrl;
  if (!body || !carriesFormBody(headers)) return undefined;
  return new URLSearchParams(body.toString('utf8')).get('Action') ?? undefined;
}

/**
 * Names the operation of a request to `service`, or undefined when it is not an API call. The
 * body is only needed for a query-protocol call that names its action in a form-encoded body.
 */
export function recogniseCall(
  service: FaultService,
  request: { readonly method: string; readonly url: string; readonly headers: IncomingHttpHeaders },
  body?: Buffer,
): RecognisedCall | undefined {
  const url = new URL(request.url, 'http://localhost');
  const target = request.headers['x-amz-target'];
  const prefix = targetPrefixes[service];
  if (prefix && typeof target === 'string' && target.startsWith(prefix)) {
    return { operation: target.slice(prefix.length), protocol: 'awsJson' };
  }
  if (service === 'ses') {
    // SES v1 is the query protocol (`Action=`); SES v2 is restJson1 under `/v2/`.
    const route = sesV2Routes.find(([method, path]) => method === request.method && path.test(url.pathname));
    if (route) return { operation: route[2], protocol: 'restJson' };
  }
  if (service === 'sqs' || service === 'ses' || service === 'sns') {
    const action = queryAction(url, request.headers, body);
    return action ? { operation: action, protocol: 'awsQuery' } : undefined;
  }
  if (service === 'scheduler') {
    const route = schedulerRoutes.find(([method, path]) => method === request.method && path.test(url.pathname));
    return route ? { operation: route[2], protocol: 'restJson' } : undefined;
  }
  if (service === 'apigatewaymanagementapi') {
    // The SDK puts the stage, when the endpoint has one, before `@connections`.
    const operation = connectionOperations[request.method];
    return operation && /^(?:\/[^/]+)?\/@connections\/[^/]+$/.test(url.pathname) ? { operation, protocol: 'restJson' } : undefined;
  }
  return undefined;
}

/**
 * SQS errors with two names: the modelled one (`__type` of the JSON protocol) and the legacy query
 * code (the query protocol's `<Code>` and the JSON protocol's `x-amzn-query-error`), per the SQS model.
 */
const sqsQueryCodes: Readonly<Record<string, string>> = {
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  BatchRequestTooLong: 'AWS.SimpleQueueService.BatchRequestTooLong',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
  PurgeQueueInProgress: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  QueueDeletedRecently: 'AWS.SimpleQueueService.QueueDeletedRecently',
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
  KmsAccessDenied: 'KMS.AccessDeniedException',
  KmsDisabled: 'KMS.DisabledException',
  KmsInvalidKeyUsage: 'KMS.InvalidKeyUsageException',
  KmsInvalidState: 'KMS.InvalidStateException',
  KmsNotFound: 'KMS.NotFoundException',
  KmsOptInRequired: 'KMS.OptInRequired',
  KmsThrottled: 'KMS.ThrottlingException',
};
const sqsModelledNames: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(sqsQueryCodes).map(([modelled, query]) => [query, modelled]),
);

const jsonNamespaces: Partial<Record<FaultService, string>> = {
  dynamodb: 'com.amazonaws.dynamodb.v20120810',
  sqs: 'com.amazonaws.sqs',
  secretsmanager: 'com.amazonaws.secretsmanager',
};
const queryNamespaces: Partial<Record<FaultService, string>> = {
  ses: 'http://ses.amazonaws.com/doc/2010-12-01/',
  sqs: 'http://queue.amazonaws.com/doc/2012-11-05/',
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
};

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An HTTP answer, ready to write. */
export interface WireResponse {
  readonly statusCode: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: string;
}

/** The error as `service` sends it over `protocol`; the message defaults to one naming the injection. */
export function faultResponse(service: FaultService, protocol: WireProtocol, error: FaultError): WireResponse {
  const requestId = randomUUID();
  const message = error.message ?? `${error.code} (fault injected by the local stack)`;
  // Query-protocol errors say whose fault it was; the SDK uses the status for that otherwise.
  const type = error.statusCode < 500 ? 'Sender' : 'Receiver';
  const queryCode = service === 'sqs' ? (sqsQueryCodes[error.code] ?? error.code) : error.code;

  if (protocol === 'awsQuery') {
    const xml =
      `<ErrorResponse xmlns="${queryNamespaces[service] ?? ''}"><Error><Type>${type}</Type>` +
      `<Code>${escapeXml(queryCode)}</Code><Message>${escapeXml(message)}</Message></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`;
    return { statusCode: error.statusCode, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: xml };
  }
  if (protocol === 'awsJson') {
    const name = service === 'sqs' ? (sqsModelledNames[error.code] ?? error.code) : error.code;
    return {
      statusCode: error.statusCode,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': name,
        // SQS's JSON protocol also carries the legacy query code, which the SDK exposes as `Code`.
        ...(service === 'sqs' ? { 'x-amzn-query-error': `${queryCode};${type}` } : {}),
      },
      body: JSON.stringify({ __type: `${jsonNamespaces[service] ?? ''}#${name}`, message }),
    };
  }
  // restJson1: the type in `x-amzn-ErrorType`; Scheduler's model names the member `Message`,
  // API Gateway and SES v2 answer `message`.
  return {
    statusCode: error.statusCode,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': error.code },
    body: JSON.stringify(service === 'scheduler' ? { Message: message } : { message }),
  };
}

/** Writes `answer` as the response. */
export function sendWireResponse(res: ServerResponse, answer: WireResponse): void {
  res.writeHead(answer.statusCode, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

/**
 * Counts one call the functions made and decides its fate: the fault's answer when a rule fires,
 * undefined when the call is to be served. `headers` are the request's, whose signature names the caller.
 */
export type CallHook = (service: FaultService, call: RecognisedCall, headers?: IncomingHttpHeaders) => WireResponse | undefined;

/**
 * The access key id a request was signed with: the `Credential=<key>/<date>/...` of a Signature
 * Version 4 `Authorization` header ("Authorization header", AWS Signature Version 4 in the IAM
 * User Guide); undefined when the request is not signed that way.
 */
export function accessKeyIdOf(headers: IncomingHttpHeaders | undefined): string | undefined {
  const authorization = headers?.authorization;
  if (typeof authorization !== 'string') return undefined;
  return /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\//.exec(authorization)?.[1];
}

/** The hook over the stack's fault rules and call counter. */
export function createCallHook(faults: FaultInjector, calls: ApiCallCounter): CallHook {
  return function callHook(service, call, headers) {
    calls.count(service, call.operation, accessKeyIdOf(headers));
    const fault = faults.decide(service, call.operation);
    return fault ? faultResponse(service, call.protocol, fault) : undefined;
  };
}
