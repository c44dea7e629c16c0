/** The directory: recipients and their group memberships. */
import { once, tableNames } from '../../config.ts';
import { DynamoRecipientStore } from '../dynamo-recipient-store.ts';
import { documentClient } from './dynamodb.ts';

/** Recipients, with their memberships moved in the same transactions. */
export const recipientStore = once(
  () => new DynamoRecipientStore(documentClient(), tableNames().recipients, () => tableNames().memberships),
);
