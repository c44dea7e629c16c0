/**
 * SMS and push: SNS (phone numbers and platform endpoints) and the stage's VAPID keys (Secrets
 * Manager); Web Push itself is in `web-push.ts`, so that the functions which only read the keys
 * or register targets (`api`) do not carry the library. Clients are made on first use, with
 * endpoints from the SDK's own `AWS_ENDPOINT_URL_SNS` and `AWS_ENDPOINT_URL_SECRETS_MANAGER`
 * where they are set (the local stack).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { once, pushConfig } from '../../config.ts';
import type { PushTargetCleaner } from '../../delivery/channels/push.ts';
import { AnsweredErrorsRetryStrategy } from '../answered-errors-retry-strategy.ts';
import { sdkClientOptions, sdkRequestHandler } from '../sdk-clients.ts';
import { withoutSdkLogger } from '../sdk-logger.ts';
import { SnsDeviceEndpoints, SnsMobilePush, SnsSmsSender } from '../sns-messaging.ts';
import { secretsManagerVapidKeys } from '../vapid-keys.ts';
import type { VapidKeys } from '../vapid-keys.ts';
import { DynamoPushTargetStore } from '../dynamo-live-state-store.ts';
import { DynamoPushSubscriptionOwners, releaseSubscriptionOwner } from '../dynamo-push-subscription-owners.ts';
import { documentClient, tables } from './dynamodb.ts';

// A text or a push must not go twice: the SDK retries only what SNS refused, never a timed-out publish.
const newSnsClient = (): SNSClient => withoutSdkLogger(new SNSClient({ requestHandler: sdkRequestHandler(), retryStrategy: new AnsweredErrorsRetryStrategy() }));
const secretsClient = /* @__PURE__ */ once(() => withoutSdkLogger(new SecretsManagerClient(sdkClientOptions())));

/** SMS through SNS. */
export const smsSender = /* @__PURE__ */ once(() => new SnsSmsSender(newSnsClient));
/** Mobile push through SNS platform endpoints. */
export const mobilePush = /* @__PURE__ */ once(() => new SnsMobilePush(newSnsClient));
/** The devices' SNS platform endpoints, as registering them uses them. */
export const deviceEndpoints = /* @__PURE__ */ once(() => new SnsDeviceEndpoints(newSnsClient, () => pushConfig().platformApplications));
/** The stage's VAPID key pair, read once per cold start. */
export const vapidKeys = /* @__PURE__ */ once((): (() => Promise<VapidKeys>) => secretsManagerVapidKeys(secretsClient, pushConfig().vapidSecretArn));
/** The users' push targets, on their live items in the inbox table. */
export const pushTargetStore = /* @__PURE__ */ once(() => new DynamoPushTargetStore(documentClient(), tables().inbox));
/** Which user each browser subscription is registered to, in the inbox table. */
export const pushSubscriptionOwners = /* @__PURE__ */ once(() => new DynamoPushSubscriptionOwners(documentClient(), tables().inbox));
/**
 * Forgets the targets a push service called gone; a gone subscription's owner record first (it
 * names the user), so that one left by a failure is still listed, found gone and removed next time.
 */
export const pushTargetCleaner = /* @__PURE__ */ once(
  (): PushTargetCleaner => ({
    forget: async (tenantId, recipientId, gone) => {
      await Promise.all(gone.subscriptionIds.map((id) => releaseSubscriptionOwner(documentClient(), tables().inbox, id, { tenantId, userId: recipientId })));
      await pushTargetStore().forget(tenantId, recipientId, [...gone.subscriptionIds, ...gone.deviceIds]);
    },
  }),
);
