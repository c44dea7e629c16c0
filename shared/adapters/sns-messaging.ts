/**
 * Amazon SNS for the SMS and mobile push channels: `Publish` to a `PhoneNumber` (after
 * `CheckIfPhoneNumberIsOptedOut`: a Publish to an opted-out number is accepted and silently never
 * delivered, so the check is what lets the channel fail it at once), and platform endpoints for
 * FCM and APNs devices (`CreatePlatformEndpoint` with `GetEndpointAttributes`, `SetEndpointAttributes`
 * to take one over, `Publish` to the endpoint ARN, `DeleteEndpoint`).
 * Sources: the SNS API Reference (Publish, CheckIfPhoneNumberIsOptedOut, CreatePlatformEndpoint,
 * SetEndpointAttributes), "Creating a platform endpoint" and "Sending mobile push notifications" in
 * the SNS Developer Guide.
 */
import {
  CheckIfPhoneNumberIsOptedOutCommand,
  CreatePlatformEndpointCommand,
  DeleteEndpointCommand,
  GetEndpointAttributesCommand,
  NotFoundException,
  PublishCommand,
  SetEndpointAttributesCommand,
} from '@aws-sdk/client-sns';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { DeviceEndpoints, MobileEndpoint, MobilePush, SmsSender } from '../ports.ts';
import { cutText } from '../domain/text-cut.ts';
import { checkBeforeEachAttempt, failedBeforeDispatch, flagErrorsBeforeDispatch } from './sdk-dispatch.ts';

/** Raised when the number opted out: shaped as a provider's 4xx so the engine fails the channel at once. */
export class OptedOutError extends Error {
  readonly $metadata = { httpStatusCode: 400 };
  /** Nothing was published. */
  readonly $notSent = true;

  constructor(phone: string) {
    super(`${phone} opted out of SMS from this account (CheckIfPhoneNumberIsOptedOut)`);
    this.name = 'OptedOut';
  }
}

/** One SNS client for a function, replaced when one threw before sending (as the SES mailer does). */
class FreshClient {
  private readonly make: () => SNSClient;
  private client: SNSClient;

  constructor(make: () => SNSClient) {
    this.make = make;
    this.client = flagErrorsBeforeDispatch(make());
  }

  async call<T>(work: (client: SNSClient) => Promise<T>): Promise<T> {
    try {
      return await work(this.client);
    } catch (error) {
      if (failedBeforeDispatch(error)) this.client = flagErrorsBeforeDispatch(this.make());
      throw error;
    }
  }
}

/** SMS through SNS `Publish`, transactional (SNS's routing for time-critical messages). */
export class SnsSmsSender implements SmsSender {
  private readonly sns: FreshClient;
  private readonly senderId: string | undefined;

  /** `senderId`: the alphanumeric sender id where the destination country supports one. */
  constructor(newClient: () => SNSClient, options: { readonly senderId?: string } = {}) {
    this.sns = new FreshClient(newClient);
    this.senderId = options.senderId;
  }

  async send(phone: string, text: string, options: { readonly beforePublish?: () => void } = {}): Promise<{ readonly messageId?: string }> {
    const { isOptedOut } = await this.sns.call((c) => c.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: phone })));
    if (isOptedOut) throw new OptedOutError(phone);
    const publish = new PublishCommand({
      PhoneNumber: phone,
      Message: text,
      MessageAttributes: {
        'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
        ...(this.senderId ? { 'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: this.senderId } } : {}),
      },
    });
    // Before each attempt of Publish, the SDK's retries of a throttled one included.
    if (options.beforePublish) checkBeforeEachAttempt(publish, options.beforePublish);
    const { MessageId } = await this.sns.call((c) => c.send(publish));
    return MessageId ? { messageId: MessageId } : {};
  }
}

/** The platform application of each mobile platform (its ARN from CDK context). */
export type PlatformApplications = Readonly<Partial<Record<'fcm' | 'apns', string>>>;

/** Thrown when a device registers for a platform the deployment has no SNS application for. */
export class PlatformNotConfiguredError extends Error {
  constructor(platform: string) {
    super(`No SNS platform application is configured for ${platform}`);
    this.name = 'PlatformNotConfiguredError';
  }
}

/**
 * The endpoint SNS names when it refuses a `CreatePlatformEndpoint` because the token's endpoint
 * exists with other attributes (`InvalidParameter`, "Invalid parameter: Token Reason: Endpoint
 * <arn> already exists with the same Token, but different attributes."), or undefined for any
 * other error. SNS gives the ARN in no other field.
 */
export function endpointNamedBy(error: unknown): string | undefined {
  if ((error as { name?: unknown }).name !== 'InvalidParameterException') return undefined;
  return /\bEndpoint (arn:\S+) already exists with the same Token\b/i.exec((error as Error).message)?.[1];
}

/** Deletes an SNS platform endpoint; one already gone is no error (DeleteEndpoint is idempotent, NotFound tolerated). */
async function deleteEndpoint(sns: FreshClient, endpointArn: string): Promise<void> {
  try {
    await sns.call((c) => c.send(new DeleteEndpointCommand({ EndpointArn: endpointArn })));
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
  }
}

/** An endpoint as GetEndpointAttributes answers it. */
function endpointOf(endpointArn: string, attributes: Readonly<Record<string, string>>): MobileEndpoint {
  return {
    endpointArn,
    enabled: attributes['Enabled'] === 'true',
    ...(attributes['Token'] !== undefined ? { token: attributes['Token'] } : {}),
    ...(attributes['CustomUserData'] !== undefined ? { userData: attributes['CustomUserData'] } : {}),
  };
}

/**
 * The devices' SNS platform endpoints, registered as "Creating a platform endpoint" in the SNS
 * Developer Guide recommends: created, or found and read, then taken over and enabled. Apart from
 * {@link SnsMobilePush} so that the delivering functions do not carry it.
 */
export class SnsDeviceEndpoints implements DeviceEndpoints {
  private readonly sns: FreshClient;
  private readonly applications: () => PlatformApplications;

  /** `applications` is read on first use (the configuration of a function that may never register a device). */
  constructor(newClient: () => SNSClient, applications: () => PlatformApplications) {
    this.sns = new FreshClient(newClient);
    this.applications = applications;
  }

  async register(platform: 'fcm' | 'apns', token: string, userData: string): Promise<MobileEndpoint> {
    const application = this.applications()[platform];
    if (!application) throw new PlatformNotConfiguredError(platform);
    // Idempotent in SNS for the same token and attributes; for other attributes (the token's endpoint
    // holds another user's data) SNS refuses, naming the endpoint, which is the one to take over.
    const endpointArn = await this.sns
      .call((c) => c.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: application, Token: token, CustomUserData: userData })))
      .then(
        ({ EndpointArn }) => EndpointArn,
        (error: unknown) => endpointNamedBy(error) ?? Promise.reject(error),
      );
    if (!endpointArn) throw new Error('SNS CreatePlatformEndpoint answered no EndpointArn');
    // An endpoint that already existed is answered as it is: it may be disabled (the app was
    // reinstalled after FCM or APNs called its token invalid) or hold another user's data.
    const endpoint = await this.read(endpointArn);
    if (!endpoint) throw new Error(`SNS deleted the endpoint ${endpointArn} as it was being registered`);
    return endpoint;
  }

  async read(endpointArn: string): Promise<MobileEndpoint | undefined> {
    try {
      const { Attributes: attributes = {} } = await this.sns.call((c) => c.send(new GetEndpointAttributesCommand({ EndpointArn: endpointArn })));
      return endpointOf(endpointArn, attributes);
    } catch (error) {
      if (error instanceof NotFoundException) return undefined;
      throw error;
    }
  }

  async claim(endpointArn: string, token: string, userData: string): Promise<void> {
    await this.sns.call((c) =>
      c.send(new SetEndpointAttributesCommand({ EndpointArn: endpointArn, Attributes: { Token: token, CustomUserData: userData, Enabled: 'true' } })),
    );
  }

  async unregister(endpointArn: string): Promise<void> {
    await deleteEndpoint(this.sns, endpointArn);
  }
}

/** Mobile push through SNS platform endpoints: publishing, and deleting the endpoints found gone. */
export class SnsMobilePush implements MobilePush {
  private readonly sns: FreshClient;

  constructor(newClient: () => SNSClient) {
    this.sns = new FreshClient(newClient);
  }

  async unregister(endpointArn: string): Promise<void> {
    await deleteEndpoint(this.sns, endpointArn);
  }

  async publish(endpointArn: string, message: MobileMessage): Promise<{ readonly messageId?: string }> {
    const { MessageId } = await this.sns.call((c) =>
      c.send(new PublishCommand({ TargetArn: endpointArn, MessageStructure: 'json', Message: JSON.stringify(platformMessage(message)) })),
    );
    return MessageId ? { messageId: MessageId } : {};
  }
}

/**
 * The most a mobile push payload holds: APNs takes 4,096 bytes for a remote notification ("Sending
 * notification requests to APNs"), FCM 4,096 bytes for a notification message ("About FCM
 * messages"). SNS passes a larger one on, to be refused or dropped there.
 */
export const maxMobilePushPayloadBytes = 4096;

type MobileMessage = { readonly title: string; readonly body: string; readonly data: Readonly<Record<string, unknown>> };

/**
 * The per-platform message SNS forwards (`MessageStructure: json`): FCM HTTP v1's `fcmV1Message`
 * and APNs' `aps` payload, each a JSON string of at most {@link maxMobilePushPayloadBytes}, and
 * `default` for any other platform. A payload that would be larger keeps of `data` only
 * `notificationId`, `type` and `truncated: "true"`, and its body is cut (between characters) to
 * fit: the app fetches the whole notification by its id, as a browser does for Web Push.
 */
export function platformMessage(message: MobileMessage): Record<string, string> {
  const fcm = (m: MobileMessage): string => {
    const data = Object.fromEntries(Object.entries(m.data).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
    return JSON.stringify({ fcmV1Message: { message: { notification: { title: m.title, body: m.body }, data } } });
  };
  const apns = (m: MobileMessage): string => JSON.stringify({ aps: { alert: { title: m.title, body: m.body } }, data: m.data });
  return { default: message.body, GCM: fitted(fcm, message), APNS: fitted(apns, message) };
}

/** `build(message)`, or, past the limit, built from a slimmer message whose body is cut to the longest that fits. */
function fitted(build: (message: MobileMessage) => string, message: MobileMessage): string {
  const fits = (payload: string): boolean => Buffer.byteLength(payload) <= maxMobilePushPayloadBytes;
  const full = build(message);
  if (fits(full)) return full;
  const { notificationId, type } = message.data;
  const data = { ...(notificationId !== undefined ? { notificationId } : {}), ...(type !== undefined ? { type } : {}), truncated: 'true' };
  const title = cutText(message.title, { maxCodePoints: 200 });
  const withBody = (codePoints: number): string => build({ title, body: cutText(message.body, { maxCodePoints: codePoints + 1 }), data });
  // The longest body (in code points) that fits, by bisection: JSON escapes make bytes uneven.
  let low = 0;
  let high = [...message.body].length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(withBody(middle))) low = middle;
    else high = middle - 1;
  }
  return withBody(low);
}
