/**
 * Amazon SNS for the local stack, as @aws-sdk/client-sns speaks it: the query protocol
 * (`POST /`, `application/x-www-form-urlencoded`, `Action=…&Version=2010-03-31`, XML answers in
 * the `http://sns.amazonaws.com/doc/2010-03-31/` namespace, errors as `<ErrorResponse>` with SNS's
 * own codes). Only what Herald uses: platform endpoints (CreatePlatformEndpoint, DeleteEndpoint,
 * GetEndpointAttributes, SetEndpointAttributes, ListEndpointsByPlatformApplication), Publish to an endpoint or a phone number, and the
 * SMS opt-out list (CheckIfPhoneNumberIsOptedOut, ListPhoneNumbersOptedOut, OptInPhoneNumber).
 *
 * What it enforces as SNS does: E.164 phone numbers, SMS of at most 1,600 bytes, messages of at
 * most 256 KiB, `MessageStructure=json` messages that are a JSON object with a `default` key,
 * endpoints of known platform applications, `EndpointDisabled` on a Publish to a disabled
 * endpoint, and `InvalidParameter` naming the endpoint to a CreatePlatformEndpoint of a token whose
 * endpoint holds other `CustomUserData`. A Publish to an opted-out number is accepted and never delivered, as on AWS.
 * What reaches a phone or a device is recorded in the stack's outbox (`sms`, `push`). What it
 * cannot emulate: carriers and FCM/APNs themselves (an endpoint is disabled only when told so,
 * with SetEndpointAttributes `Enabled=false`, as FCM/APNs feedback would), delivery status logs,
 * spend limits and origination identities.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { CallHook, RecognisedCall } from './aws-call-hook.ts';
import { startEmulatorFront } from './emulator-front.ts';
import { readBody } from './request-body.ts';
import type { EmulatorFront } from './emulator-front.ts';
import { closeServer, describeError } from './http-gateway.ts';
import { httpUrl, listen } from './listen.ts';
import type { Outbox } from './outbox.ts';

const namespace = 'http://sns.amazonaws.com/doc/2010-03-31/';
/** The largest SNS message (Publish), bytes. */
export const maxSnsMessageBytes = 256 * 1024;
/** The largest SMS SNS takes, bytes (it splits it into up to 10 segments). */
export const maxSmsBytes = 1600;
const e164 = /^\+[1-9]\d{1,14}$/;

export interface SnsEmulatorOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  readonly region: string;
  readonly accountId: string;
  /** The platform applications that exist (their ARNs). */
  readonly platformApplications: readonly string[];
  /** Where delivered SMS and pushes are recorded. */
  readonly outbox: Outbox;
  /** When set, the faultable endpoint whose calls go through `hook`: the functions'. */
  readonly faultable?: { readonly hook: CallHook; readonly port?: number };
  /** Where failures are reported. @default stderr */
  readonly log?: (line: string) => void;
}

interface Endpoint {
  readonly arn: string;
  readonly application: string;
  token: string;
  attributes: Record<string, string>;
}

export interface SnsEmulator {
  readonly endpoint: string;
  readonly faultableEndpoint?: string;
  /** Opts a number out, as a recipient replying STOP would. */
  optOut(phoneNumber: string): void;
  stop(): Promise<void>;
}

/** An SNS error: its query code and HTTP status (the SNS model's `awsQueryError`). */
class SnsError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const invalid = (message: string): SnsError => new SnsError('InvalidParameter', 400, message);

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function xmlOf(value: unknown, name?: string): string {
  if (Array.isArray(value)) return value.map((item) => `<member>${xmlOf(item)}</member>`).join('');
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, inner]) => (name === 'Attributes' ? `<entry><key>${escapeXml(key)}</key><value>${escapeXml(String(inner))}</value></entry>` : `<${key}>${xmlOf(inner, key)}</${key}>`))
      .join('');
  }
  return escapeXml(String(value));
}

function answer(res: ServerResponse, action: string, result: Record<string, unknown>): void {
  const requestId = randomUUID();
  const body =
    `<${action}Response xmlns="${namespace}"><${action}Result>${xmlOf(result)}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
  res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function fail(res: ServerResponse, error: SnsError): void {
  const requestId = randomUUID();
  const body =
    `<ErrorResponse xmlns="${namespace}"><Error><Type>${error.status < 500 ? 'Sender' : 'Receiver'}</Type>` +
    `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`;
  res.writeHead(error.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** `Prefix.entry.N.key` / `Prefix.entry.N.value` pairs of a query-protocol map. */
function mapParameter(params: URLSearchParams, prefix: string, keyName = 'key', valueName = 'value'): Record<string, string> {
  const map: Record<string, string> = {};
  for (let n = 1; params.has(`${prefix}.entry.${n}.${keyName}`); n++) {
    map[params.get(`${prefix}.entry.${n}.${keyName}`) ?? ''] = params.get(`${prefix}.entry.${n}.${valueName}`) ?? '';
  }
  return map;
}

/** Starts the SNS emulator and, when asked, its faultable endpoint. */
export async function startSnsEmulator(options: SnsEmulatorOptions): Promise<SnsEmulator> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  const applications = new Set(options.platformApplications);
  const endpoints = new Map<string, Endpoint>();
  const optedOut = new Set<string>();

  function required(params: URLSearchParams, name: string): string {
    const value = params.get(name);
    if (value === null || value === '') throw invalid(`Invalid parameter: ${name} Reason: cannot be empty`);
    return value;
  }

  function existing(arn: string): Endpoint {
    const endpoint = endpoints.get(arn);
    if (!endpoint) throw new SnsError('NotFound', 404, 'Endpoint does not exist');
    return endpoint;
  }

  function publish(params: URLSearchParams): Record<string, unknown> {
    const message = required(params, 'Message');
    if (Buffer.byteLength(message) > maxSnsMessageBytes) throw invalid('Invalid parameter: Message too long');
    const messageId = randomUUID();
    const phone = params.get('PhoneNumber');
    const target = params.get('TargetArn') ?? params.get('TopicArn');
    if ((phone ? 1 : 0) + (target ? 1 : 0) !== 1) throw invalid('Invalid parameter: exactly one of TargetArn, TopicArn, PhoneNumber must be given');
    if (phone) {
      if (!e164.test(phone)) throw invalid(`Invalid parameter: PhoneNumber Reason: ${phone} is not valid to publish to`);
      if (Buffer.byteLength(message) > maxSmsBytes) throw invalid('Invalid parameter: Message Reason: an SMS message may hold at most 1600 bytes');
      // On AWS a Publish to an opted-out number succeeds and is silently not delivered.
      if (!optedOut.has(phone)) {
        const attributes = mapParameter(params, 'MessageAttributes', 'Name', 'Value.StringValue');
        options.outbox.record({ channel: 'sms', provider: 'sns', to: phone, body: { message, attributes }, providerMessageId: messageId });
      }
      return { MessageId: messageId };
    }
    const endpoint = existing(target ?? '');
    if (endpoint.attributes.Enabled === 'false') throw new SnsError('EndpointDisabled', 400, 'Endpoint is disabled');
    let body: unknown = message;
    if (params.get('MessageStructure') === 'json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        throw invalid('Invalid parameter: Message Structure - JSON message body failed to parse');
      }
      if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { default?: unknown }).default !== 'string') {
        throw invalid('Invalid parameter: Message Structure - No default entry in JSON message body');
      }
      body = parsed;
    }
    options.outbox.record({ channel: 'push', provider: 'sns', to: endpoint.arn, body, providerMessageId: messageId });
    return { MessageId: messageId };
  }

  const actions: Readonly<Record<string, (params: URLSearchParams) => Record<string, unknown>>> = {
    CreatePlatformEndpoint: (params) => {
      const application = required(params, 'PlatformApplicationArn');
      const token = required(params, 'Token');
      if (!applications.has(application)) throw new SnsError('NotFound', 404, 'PlatformApplication does not exist');
      const custom = params.get('CustomUserData');
      // The same token on the same application is the same endpoint: idempotent for the same
      // attributes, refused, naming that endpoint, for others (a device signed in by another user),
      // as SNS does ("Creating a platform endpoint"; enabled or not, it is answered as it is).
      const found = [...endpoints.values()].find((e) => e.application === application && e.token === token);
      if (found) {
        if (custom !== null && custom !== found.attributes.CustomUserData) {
          throw invalid(`Invalid parameter: Token Reason: Endpoint ${found.arn} already exists with the same Token, but different attributes.`);
        }
        return { EndpointArn: found.arn };
      }
      const arn = `${application.replace(':app/', ':endpoint/')}/${randomUUID()}`;
      endpoints.set(arn, { arn, application, token, attributes: { Enabled: 'true', Token: token, ...(custom ? { CustomUserData: custom } : {}) } });
      return { EndpointArn: arn };
    },
    DeleteEndpoint: (params) => {
      // Deleting an endpoint that is not there succeeds (the action is idempotent).
      endpoints.delete(required(params, 'EndpointArn'));
      return {};
    },
    ListEndpointsByPlatformApplication: (params) => {
      const application = required(params, 'PlatformApplicationArn');
      if (!applications.has(application)) throw new SnsError('NotFound', 404, 'PlatformApplication does not exist');
      return { Endpoints: [...endpoints.values()].filter((e) => e.application === application).map((e) => ({ EndpointArn: e.arn, Attributes: e.attributes })) };
    },
    GetEndpointAttributes: (params) => ({ Attributes: existing(required(params, 'EndpointArn')).attributes }),
    SetEndpointAttributes: (params) => {
      const endpoint = existing(required(params, 'EndpointArn'));
      endpoint.attributes = { ...endpoint.attributes, ...mapParameter(params, 'Attributes') };
      // A new token moves the endpoint to it: a CreatePlatformEndpoint of that token finds it.
      endpoint.token = endpoint.attributes.Token ?? endpoint.token;
      return {};
    },
    Publish: publish,
    CheckIfPhoneNumberIsOptedOut: (params) => {
      const phone = required(params, 'phoneNumber');
      if (!e164.test(phone)) throw invalid(`Invalid parameter: PhoneNumber Reason: ${phone} is not valid`);
      return { isOptedOut: optedOut.has(phone) };
    },
    ListPhoneNumbersOptedOut: () => ({ phoneNumbers: [...optedOut].sort() }),
    OptInPhoneNumber: (params) => {
      optedOut.delete(required(params, 'phoneNumber'));
      return {};
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, 2 * maxSnsMessageBytes);
    if (body === undefined) return fail(res, new SnsError('RequestEntityTooLarge', 413, 'Request too large'));
    const params = new URLSearchParams(body.toString('utf8'));
    const action = params.get('Action') ?? '';
    // Own actions only: `constructor` or `toString` must not reach Object's own functions.
    const run = Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (!run) return fail(res, new SnsError('InvalidAction', 400, `The action ${action} is not valid for this web service (the local SNS serves ${Object.keys(actions).join(', ')})`));
    try {
      answer(res, action, run(params));
    } catch (error) {
      if (error instanceof SnsError) fail(res, error);
      else throw error;
    }
  }

  const serve = (req: IncomingMessage, res: ServerResponse, _call?: RecognisedCall): void => {
    handle(req, res).catch((error: unknown) => {
      log(`[sns] ${req.method} ${req.url} failed: ${describeError(error)}`);
      if (!res.headersSent) fail(res, new SnsError('InternalError', 500, 'Internal error'));
      else res.destroy();
    });
  };
  const server: Server = createServer(serve);
  const port = await listen(server, options.port ?? 0, host);
  let front: EmulatorFront | undefined;
  try {
    if (options.faultable) {
      front = await startEmulatorFront({
        service: 'sns',
        hook: options.faultable.hook,
        // The front read the form body to name the call and hands over a replay of it.
        serve,
        host,
        ...(options.faultable.port !== undefined ? { port: options.faultable.port } : {}),
      });
    }
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  return {
    endpoint: httpUrl(host, port),
    ...(front ? { faultableEndpoint: front.endpoint } : {}),
    optOut: (phoneNumber) => void optedOut.add(phoneNumber),
    stop: async () => {
      await front?.stop();
      await closeServer(server);
    },
  };
}
