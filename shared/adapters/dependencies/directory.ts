/** The directory: recipients and their group memberships. */
import { once } from '../../config.ts';
import { DynamoRecipientStore } from '../dynamo-recipient-store.ts';
import { DynamoTenantSettingsStore } from '../dynamo-tenant-settings-store.ts';
import { documentClient, tables } from './dynamodb.ts';

/** Recipients, with their memberships moved in the same transactions. */
export const recipientStore = /* @__PURE__ */ once(
  () => new DynamoRecipientStore(documentClient(), tables().recipients, () => tables().memberships),
);

/** The tenants' settings of time, one item each in the recipients table. */
export const tenantSettingsStore = /* @__PURE__ */ once(() => new DynamoTenantSettingsStore(documentClient(), () => tables().recipients));
