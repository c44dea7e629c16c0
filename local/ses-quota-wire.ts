/**
 * The SES account's quotas on the wire, in front of aws-ses-v2-local:
 *
 * - v1 `GetSendQuota` (query protocol) answers `Max24HourSend`, `MaxSendRate` and
 *   `SentLast24Hours` in XML ("GetSendQuota", SES API Reference); aws-ses-v2-local does not
 *   answer it at all, so the call used to hang.
 * - v2 `GetAccount` (restJson1) answers `SendQuota`, `ProductionAccessEnabled: true` and
 *   `SendingEnabled: true` ("GetAccount", SES API v2 Reference), where aws-ses-v2-local answers
 *   only what an `AWS_SES_ACCOUNT` variable holds.
 * - A send over a quota is refused before aws-ses-v2-local stores it: v1 `SendEmail` and
 *   `SendRawEmail` with HTTP 400, `<Code>Throttling</Code>` and "Maximum sending rate exceeded."
 *   or "Daily message quota exceeded." ("Errors related to the sending quotas for your Amazon SES
 *   account", SES Developer Guide; the error body as SES sends it); v2 `SendEmail` with HTTP 429
 *   `TooManyRequestsException` and the same messages, as SES v2 answers ("SendEmail" errors, SES
 *   API v2 Reference).
 * - A send whose message tags SES would refuse is refused as SES refuses it: HTTP 400
 *   `InvalidParameterValue` (v1) or `BadRequestException` (v2), "Invalid tag name <n>: only
 *   alphanumeric ASCII characters, '_', and '-' are allowed.", the same of a value, and "Tag value
 *   cannot exceed 255 characters." ("MessageTag", SES API Reference; the messages as LocalStack's
 *   tests recorded them against AWS). aws-ses-v2-local takes any tag.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { faultResponse, sendWireResponse } from './aws-call-hook.ts';
import type { RecognisedCall } from './aws-call-hook.ts';
import { replayedRequest } from './emulator-front.ts';
import { readBody } from './request-body.ts';
import type { AcceptedEmail } from './ses-feedback.ts';
import type { SesSendQuota, AcceptedSend } from './ses-send-quota.ts';

export interface QuotaWireContext {
  /** The operation, when the request names one. */
  readonly call: RecognisedCall | undefined;
  readonly quota: SesSendQuota;
  /** aws-ses-v2-local itself. */
  readonly emulate: (req: IncomingMessage, res: ServerResponse) => void;
  /** Told of each send SES answered with a MessageId (the mailbox simulator's feedback starts there). */
  readonly onAccepted?: (email: AcceptedEmail) => void;
}

/** The largest SES v2 request body read here (SES v2 takes 40 MB messages). */
const maxJsonBodyBytes = 50 * 1024 * 1024;

/** Serves one SES request: the quotas' own operations here, sends through the quotas, the rest by aws-ses-v2-local. */
export async function serveWithQuota(req: IncomingMessage, res: ServerResponse, context: QuotaWireContext): Promise<void> {
  const { call, quota, emulate } = context;
  // Unsigned calls are aws-ses-v2-local's to refuse (403 "Missing Authentication Token").
  if (!call || !(req.headers.authorization ?? '').startsWith('AWS')) {
    emulate(req, res);
    return;
  }
  if (call.protocol === 'awsQuery' && call.operation === 'GetSendQuota') {
    sendWireResponse(res, getSendQuotaAnswer(quota));
    return;
  }
  if (call.protocol === 'restJson' && call.operation === 'GetAccount') {
    sendWireResponse(res, getAccountAnswer(quota));
    return;
  }
  const sent = await recipientsOf(req, call);
  if (!sent) {
    emulate(req, res);
    return;
  }
  const tagRefusal = refusedTag(sent.email.tags);
  if (tagRefusal !== undefined) {
    const error = call.protocol === 'awsQuery'
      ? { code: 'InvalidParameterValue', statusCode: 400, message: tagRefusal }
      : { code: 'BadRequestException', statusCode: 400, message: tagRefusal };
    sendWireResponse(res, faultResponse('ses', call.protocol, error));
    return;
  }
  const admission = quota.admit(sent.operation, sent.recipients);
  if ('refused' in admission) {
    const error = call.protocol === 'awsQuery'
      ? { code: 'Throttling', statusCode: 400, message: admission.refused }
      : { code: 'TooManyRequestsException', statusCode: 429, message: admission.refused };
    sendWireResponse(res, faultResponse('ses', call.protocol, error));
    return;
  }
  recordAnswer(res, quota, admission.accepted, (messageId) => context.onAccepted?.({ ...sent.email, messageId, at: admission.accepted.at }));
  emulate(sent.forward, res);
}

/** A tag name SES takes: its alphabet, or one of its own `ses:` tags (`ses:feedback-id-a`). */
const tagName = /^(?:ses:)?[A-Za-z0-9_-]{1,256}$/;
/** A tag value SES takes (LocalStack's tests against AWS: a 256th character is refused). */
const tagValue = /^[A-Za-z0-9_-]*$/;

/** Why SES would refuse these message tags, in its words; undefined when it takes them. */
export function refusedTag(tags: Readonly<Record<string, string>>): string | undefined {
  for (const [name, value] of Object.entries(tags)) {
    if (!tagName.test(name)) return `Invalid tag name <${name}>: only alphanumeric ASCII characters, '_', and '-' are allowed.`;
    if (value.length > 255) return 'Tag value cannot exceed 255 characters.';
    if (!tagValue.test(value)) return `Invalid tag value <${value}>: only alphanumeric ASCII characters, '_', and '-' are allowed.`;
  }
  return undefined;
}

/** What a send says of itself: its sender, addresses, tags and configuration set. */
type SendDescription = Omit<AcceptedEmail, 'messageId' | 'at'>;

/** A send's operation and recipients, and the request to hand on; undefined when the call is not a send. */
async function recipientsOf(
  req: IncomingMessage,
  call: RecognisedCall,
): Promise<{ operation: string; recipients: number; forward: IncomingMessage; email: SendDescription } | undefined> {
  if (call.protocol === 'awsQuery' && (call.operation === 'SendEmail' || call.operation === 'SendRawEmail')) {
    // The emulator front has already read and replayed the form body; read the replay once more.
    const body = await readBody(req, Number.POSITIVE_INFINITY);
    const form = new URLSearchParams((body ?? Buffer.alloc(0)).toString('utf8'));
    const prefixes = call.operation === 'SendEmail' ? ['Destination.ToAddresses.member.', 'Destination.CcAddresses.member.', 'Destination.BccAddresses.member.'] : ['Destinations.member.'];
    const destinations = [...form.entries()].filter(([key]) => prefixes.some((prefix) => key.startsWith(prefix))).map(([, value]) => value);
    const tags = new Map<string, string>();
    for (const [key, name] of form.entries()) {
      const index = /^Tags\.member\.(\d+)\.Name$/.exec(key)?.[1];
      if (index !== undefined) tags.set(name, form.get(`Tags.member.${index}.Value`) ?? '');
    }
    const configurationSet = form.get('ConfigurationSetName') ?? undefined;
    const email: SendDescription = { source: form.get('Source') ?? '', destinations, tags: Object.fromEntries(tags), ...(configurationSet ? { configurationSet } : {}) };
    return { operation: call.operation, recipients: destinations.length, forward: replayedRequest(req, body ?? Buffer.alloc(0)), email };
  }
  if (call.protocol === 'restJson' && call.operation === 'SendEmail') {
    const body = await readBody(req, maxJsonBodyBytes);
    if (body === undefined) return undefined;
    const destinations: string[] = [];
    let email: SendDescription = { source: '', destinations, tags: {} };
    try {
      const request = JSON.parse(body.toString('utf8')) as {
        Destination?: Record<string, unknown>;
        FromEmailAddress?: string;
        EmailTags?: { Name?: string; Value?: string }[];
        ConfigurationSetName?: string;
      };
      for (const field of ['ToAddresses', 'CcAddresses', 'BccAddresses']) {
        const addresses = request.Destination?.[field];
        if (Array.isArray(addresses)) destinations.push(...addresses.map(String));
      }
      const tags = Object.fromEntries((request.EmailTags ?? []).map((tag) => [String(tag.Name), String(tag.Value ?? '')]));
      email = { source: request.FromEmailAddress ?? '', destinations, tags, ...(request.ConfigurationSetName ? { configurationSet: request.ConfigurationSetName } : {}) };
    } catch {
      // Not JSON: aws-ses-v2-local refuses it, and the quota gives the send back.
    }
    return { operation: 'v2:SendEmail', recipients: destinations.length, forward: replayedRequest(req, body), email };
  }
  return undefined;
}

/**
 * Keeps SES's MessageId with the accepted send (and tells `accepted` once the answer is out), or
 * gives the send back when aws-ses-v2-local refused it.
 */
function recordAnswer(res: ServerResponse, quota: SesSendQuota, send: AcceptedSend, accepted: (messageId: string) => void): void {
  const end = res.end;
  res.end = function endRecordingMessageId(this: ServerResponse, ...args: unknown[]): ServerResponse {
    const [chunk] = args;
    if (res.statusCode === 200 && (typeof chunk === 'string' || Buffer.isBuffer(chunk))) {
      const text = chunk.toString();
      const messageId = /<MessageId>([^<]+)<\/MessageId>/.exec(text)?.[1] ?? /"MessageId":"([^"]+)"/.exec(text)?.[1];
      if (messageId !== undefined) send.messageId = messageId;
    }
    return (end as (...endArgs: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['end'];
  res.once('finish', () => {
    if (res.statusCode !== 200) quota.release(send);
    else if (send.messageId !== undefined) accepted(send.messageId);
  });
}

/** SES reports quotas as doubles ("200.0"). */
function double(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

function getSendQuotaAnswer(quota: SesSendQuota): { statusCode: number; headers: Record<string, string>; body: string } {
  const requestId = randomUUID();
  const body =
    '<GetSendQuotaResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><GetSendQuotaResult>' +
    `<SentLast24Hours>${double(quota.sentLast24Hours())}</SentLast24Hours>` +
    `<Max24HourSend>${double(quota.limits.max24HourSend)}</Max24HourSend>` +
    `<MaxSendRate>${double(quota.limits.maxSendRate)}</MaxSendRate>` +
    `</GetSendQuotaResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetSendQuotaResponse>`;
  return { statusCode: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}

function getAccountAnswer(quota: SesSendQuota): { statusCode: number; headers: Record<string, string>; body: string } {
  const body = JSON.stringify({
    DedicatedIpAutoWarmupEnabled: false,
    EnforcementStatus: 'HEALTHY',
    ProductionAccessEnabled: true,
    SendingEnabled: true,
    SendQuota: { Max24HourSend: quota.limits.max24HourSend, MaxSendRate: quota.limits.maxSendRate, SentLast24Hours: quota.sentLast24Hours() },
    SuppressionAttributes: { SuppressedReasons: [] },
  });
  return { statusCode: 200, headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() }, body };
}
