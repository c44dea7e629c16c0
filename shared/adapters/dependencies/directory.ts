/** The directory: recipients and their group memberships. */
import { once } from '../../config.ts';
import { DynamoRecipientStore } from '../dynamo-recipient-store.ts';
import { documentClient, tables } from './dynamodb.ts';

/** Recipients, with their memberships moved in the same transactions. */
export const recipientStore = once(
  () => new DynamoRecipientStore(documentClient(), tables().recipients, () => tables().memberships),
);
